#!/usr/bin/env node
/** Entry point of the `regprune` command; everything else is in cli.ts so tests can call it. */
import { main, processIo } from './cli.js';

process.exitCode = await main(process.argv.slice(2), processIo());
