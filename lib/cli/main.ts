#!/usr/bin/env node
/** Entry point of the `regprune` command; everything else is in cli.ts so tests can call it. */
import { main, processIo } from './cli.js';

// `regprune plan | head` closes stdout early: that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await main(process.argv.slice(2), processIo());
