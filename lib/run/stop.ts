/**
 * Stopping a run before its end, the same on every host (docs/design.md, "Crash and stop"):
 * - a signal (SIGINT, SIGTERM) aborts the run's `AbortSignal`: no new repository is listed and no
 *   new delete batch starts, the requests in flight finish, and the partial report and the history
 *   are written; a second signal ends the process at once;
 * - a run lock that is lost or about to lapse stops deletion in its registry (`leaseStopCheck`).
 */
import type { LockHandle } from '../lock/lock.js';
import { STATE_LEASE_RENEW_MS } from '../lock/state-lease.js';
import type { Logger } from '../log.js';

/** Why no new deletion may start, or null while it may. */
export type StopCheck = () => string | null;

/** The signals a run stops on, and the exit code of a process they stopped (128 + signal number). */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/**
 * Stop deleting when less than this is left of the lease: a batch that starts just before must end
 * before the lease does. One renewal period: a healthy lease (60 s, renewed every 20 s) always has
 * 40 s or more left, so only a lease whose renewals stalled (a blocked event loop, a state store
 * that does not answer) comes this close; a renewal that failed stops deletion at once.
 */
export const LEASE_STOP_MARGIN_MS = STATE_LEASE_RENEW_MS;

/** The reason an aborted `signal` carries (`stopped by SIGINT`), or null while it is not aborted. */
export function stopReasonOf(signal: AbortSignal | undefined): string | null {
  if (signal === undefined || !signal.aborted) return null;
  return typeof signal.reason === 'string' ? signal.reason : 'the run was asked to stop';
}

/** Null while `handle` holds its lease for `marginMs` more; else why this run may no longer delete. */
export function leaseStopCheck(handle: LockHandle, marginMs: number = LEASE_STOP_MARGIN_MS): StopCheck {
  return () => {
    if (handle.heldFor(marginMs)) return null;
    const why = handle.lostReason() ?? `the lease ends within the ${Math.round(marginMs / 1000)} s safety margin`;
    return `the run lock was lost or is about to lapse (${why})`;
  };
}

/** Where a host's signals come from: `process`, or a test's emitter. */
export interface SignalSource {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
}

export interface SignalStop {
  /** Aborted, with reason `stopped by SIGINT` (or SIGTERM), at the first signal. */
  readonly signal: AbortSignal;
  /** The signal that stopped the run, or null. */
  stoppedBy(): StopSignal | null;
  /** Stops listening (the host's default handling comes back). */
  dispose(): void;
}

/**
 * Turns the first SIGINT or SIGTERM into an aborted `AbortSignal` (after `onStop`, which says
 * "stopping"), and a second one into `onSecondSignal` (which ends the process at once).
 */
export function stopOnSignals(
  source: SignalSource,
  handlers: {
    readonly onStop: (signal: StopSignal) => void;
    readonly onSecondSignal: (signal: StopSignal) => void;
  },
): SignalStop {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  const listeners = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
    const listener = () => {
      if (first !== null) {
        handlers.onSecondSignal(name);
        return;
      }
      first = name;
      handlers.onStop(name);
      controller.abort(`stopped by ${name}`);
    };
    source.on(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    stoppedBy: () => first,
    dispose: () => {
      for (const { name, listener } of listeners) source.off(name, listener);
    },
  };
}

/** The line a host prints or logs when a signal stops its run. */
export function stoppingMessage(signal: StopSignal): string {
  return (
    `stopping: ${signal} received; no new deletion starts, the deletions in flight finish, then the report ` +
    'and the history are written (send it again to end at once)'
  );
}

/**
 * For the functions: runs `run` with a stop on SIGINT/SIGTERM while it lasts (a platform shutdown
 * sends SIGTERM), logging "stopping"; a second signal exits at once. Without `signals`, runs as is.
 */
export async function withSignalStop<T>(
  options: {
    readonly signals: SignalSource | undefined;
    readonly log: Logger;
    readonly exit?: (code: number) => void;
  },
  run: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const { signals, log } = options;
  if (!signals) return run(undefined);
  const stop = stopOnSignals(signals, {
    onStop: (signal) => log.warn(stoppingMessage(signal)),
    onSecondSignal: (signal) => {
      log.error(`${signal} again: ending at once; the deletions in flight may not have finished`);
      (options.exit ?? ((code: number) => process.exit(code)))(STOP_SIGNALS[signal]);
    },
  });
  try {
    return await run(stop.signal);
  } finally {
    stop.dispose();
  }
}
