/**
 * The function app: a nightly prune on a schedule from the REGPRUNE_SCHEDULE app setting, and an
 * on-demand prune over HTTP (function key required). Entry point of the bundle.
 */
import functions from '@azure/functions';
import { timerHandler, httpHandler } from './handlers.js';
import type { RunDeps } from './run.js';

const deps: RunDeps = { env: process.env, now: () => new Date() };

functions.app.timer('scheduledPrune', {
  // NCRONTAB from the app setting (Bicep default '0 0 3 * * *', 03:00 UTC nightly). No
  // runOnStartup: it would fire on every scale-out and restart.
  schedule: '%REGPRUNE_SCHEDULE%',
  runOnStartup: false,
  handler: timerHandler(deps),
});

functions.app.http('prune', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'prune',
  handler: httpHandler(deps),
});
