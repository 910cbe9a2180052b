/**
 * The function app: a nightly prune on a schedule from the REGPRUNE_SCHEDULE app setting, and an
 * on-demand prune over HTTP (function key required). Entry point of the bundle.
 *
 * Only @azure/functions is loaded when the host starts (it indexes the functions then, on every
 * cold start and scale-out); the pipeline, config parser and SDKs load on the first invocation.
 */
import functions from '@azure/functions';
import type { AzureDeps } from './run.js';

// SIGTERM (the worker shutting down) stops a run gracefully: lib/run/stop.ts.
const deps: AzureDeps = { env: process.env, now: () => new Date(), signals: process };
// Async runs, their status, continuations and the worker (lib/queue): docs/design.md, "Continuation".
const queueHandlers = () => import('./queue.js');

functions.app.timer('scheduledPrune', {
  // NCRONTAB from the app setting (Bicep default '0 0 3 * * *', 03:00 UTC nightly). No
  // runOnStartup: it would fire on every scale-out and restart.
  schedule: '%REGPRUNE_SCHEDULE%',
  runOnStartup: false,
  handler: async (timer, context) => (await queueHandlers()).scheduledHandler(deps)(timer, context),
});

functions.app.http('prune', {
  methods: ['POST'],
  authLevel: 'function',
  route: 'prune',
  handler: async (request, context) => (await queueHandlers()).asyncHttpHandler(deps)(request, context),
});

// The status of an async run: the same function key as POST /prune; run ids are 128 random bits.
functions.app.http('pruneStatus', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'prune/runs/{id}',
  handler: async (request, context) => (await queueHandlers()).runStatusHandler(deps)(request, context),
});

// Continuations and async runs, one message at a time per instance (host.json `queues`).
functions.app.storageQueue('pruneWorker', {
  queueName: 'regprune-runs',
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => (await queueHandlers()).queueHandler(deps)(message, context),
});
