#!/usr/bin/env node
/** Entry point of the `regprune` command; everything else is in cli.ts so tests can call it. */
import { main, processIo } from './cli.js';
import { callerDirectory } from './caller-directory.js';

// `regprune plan | head` closes stdout early: that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

// `npm run regprune -- -c my.yaml` starts in the package's root: paths are the caller's.
const caller = callerDirectory(process.env, process.cwd());
if (caller !== process.cwd()) process.chdir(caller);

process.exitCode = await main(process.argv.slice(2), processIo());
