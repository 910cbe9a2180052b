/**
 * `RunLock` as a lease record on the state store: `locks/<endpoint>` holds `{owner, expiresAt}`.
 * Taken with create-if-absent, renewed with replace-if-unchanged on a timer, released with a
 * conditional delete. A lease whose `expiresAt` has passed belongs to a run that died; the next run
 * takes it over with replace-if-unchanged, so of two runs racing for it exactly one wins.
 * Takeover compares `expiresAt` with the contender's wall clock, so hosts' clocks must agree to
 * within the margin the holder passes to `heldFor` (NTP keeps them within a second).
 * A lease also names its process (host, pid, boot and pid namespace): with `reclaimDeadOwners`, a
 * CLI run takes over at once an unexpired lease whose process on this same machine is gone
 * (SIGKILL, a crash), instead of waiting out the TTL. docs/design.md, "Run lock".
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { keySegment, type StateStore } from '../state/store.js';
import {
  LeaseState,
  systemLeaseClock,
  type LeaseClock,
  type LockHandle,
  type LockHolder,
  type RunLock,
} from './lock.js';

/** A lease lasts this long unless renewed; a killed run frees the registry within it. */
export const STATE_LEASE_TTL_MS = 60_000;
/** Renew at a third of the lease: two renewals may fail before another run could take over. */
export const STATE_LEASE_RENEW_MS = 20_000;

export const LeaseRecordSchema = z.looseObject({
  owner: z.string(),
  /** Wall-clock expiry (ISO 8601); past it, another run may take the lease over. */
  expiresAt: z.string(),
  acquiredAt: z.string().optional(),
  /** `os.hostname()` of the holder. */
  host: z.string().optional(),
  pid: z.number().int().optional(),
  /** Boot id and pid namespace of the holder: a pid means the same process only where these match. */
  processScope: z.string().optional(),
});
export type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

/** Where the lease for lock `key` lives in the state store. */
export function leaseKeyOf(key: string): string {
  return `locks/${keySegment(key)}`;
}

export interface StateLeaseLockOptions {
  readonly store: StateStore;
  readonly clock?: LeaseClock;
  readonly log?: Logger;
  readonly ttlMs?: number;
  /** Renewal period; 0 disables the timer (tests renew by hand with `renew()`). */
  readonly renewMs?: number;
  /** Who holds the lease, for messages; default `host:pid:random`. */
  readonly owner?: string;
  /**
   * Take over an unexpired lease whose holder ran on this machine and whose process is gone.
   * For the CLI; off for the functions, whose sandboxes may share host names and pids.
   */
  readonly reclaimDeadOwners?: boolean;
}

/**
 * What makes a pid name one process: the kernel boot and the pid namespace (Linux), so two
 * containers or two microVMs that share a host name never mistake each other's pids. Empty where
 * /proc is absent (macOS), leaving the host name alone to tell.
 */
function readProcessScope(): string {
  const parts: string[] = [];
  try {
    parts.push(`boot=${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}`);
  } catch {
    // not Linux
  }
  try {
    parts.push(`pidns=${readlinkSync('/proc/self/ns/pid')}`);
  } catch {
    // not Linux
  }
  return parts.join(' ');
}

let processScopeCache: string | undefined;
function processScope(): string {
  processScopeCache ??= readProcessScope();
  return processScopeCache;
}

/** True unless signalling `pid` says no such process (EPERM: it exists, as another user's). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A held state lease; `renew()` is what the timer calls, exposed so tests drive it without waiting. */
export interface StateLeaseHandle extends LockHandle {
  /** Renews the lease now; false when it could not (the reason is in `lostReason()`). */
  renew(): Promise<boolean>;
}

function decode(value: Uint8Array): LeaseRecord | null {
  try {
    const parsed = LeaseRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(value)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** `RunLock` on a `StateStore` lease record. */
export class StateLeaseLock implements RunLock {
  private readonly store: StateStore;
  private readonly clock: LeaseClock;
  private readonly log: Logger;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly owner: string;
  private readonly reclaimDeadOwners: boolean;

  constructor(options: StateLeaseLockOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemLeaseClock;
    this.log = options.log ?? silentLogger;
    this.ttlMs = options.ttlMs ?? STATE_LEASE_TTL_MS;
    this.renewMs = options.renewMs ?? STATE_LEASE_RENEW_MS;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.reclaimDeadOwners = options.reclaimDeadOwners ?? false;
  }

  /** Who holds `key` now (from its lease record), or null when nobody does. */
  async holderOf(key: string): Promise<LockHolder | null> {
    const current = await this.store.read(leaseKeyOf(key));
    const lease = current === null ? null : decode(current.value);
    return lease === null ? null : { owner: lease.owner, expiresAt: lease.expiresAt };
  }

  /** The lease's process ran on this machine and is gone (so it will never renew nor release). */
  private isDeadLocalOwner(lease: LeaseRecord): boolean {
    if (!this.reclaimDeadOwners || lease.pid === undefined || lease.pid === process.pid) return false;
    if (lease.host !== hostname() || (lease.processScope ?? '') !== processScope()) return false;
    return !isProcessAlive(lease.pid);
  }

  private record(): string {
    const now = this.clock.wallMs();
    return JSON.stringify({
      owner: this.owner,
      expiresAt: new Date(now + this.ttlMs).toISOString(),
      acquiredAt: new Date(now).toISOString(),
      host: hostname(),
      pid: process.pid,
      processScope: processScope(),
    } satisfies LeaseRecord);
  }

  async acquire(key: string): Promise<StateLeaseHandle | null> {
    const recordKey = leaseKeyOf(key);
    // Two tries: the holder may release between our failed create and our read.
    for (let attempt = 0; attempt < 2; attempt++) {
      const sentAt = this.clock.monotonicMs();
      const created = await this.store.create(recordKey, this.record());
      if (created.ok) return this.held(key, recordKey, created.version, sentAt);
      const current = await this.store.read(recordKey);
      if (current === null) continue;
      const lease = decode(current.value);
      // An unreadable lease cannot tell when it ends; a run never writes one, so treat it as dead.
      const expired = lease === null || !(Date.parse(lease.expiresAt) > this.clock.wallMs());
      const deadOwner = !expired && lease !== null && this.isDeadLocalOwner(lease);
      if (!expired && !deadOwner) return null;
      const takeoverAt = this.clock.monotonicMs();
      const taken = await this.store.replace(recordKey, this.record(), current.version);
      if (!taken.ok) return null; // another run took it over first
      this.log.warn(
        deadOwner
          ? `took over the run lock of process ${lease?.pid} on this host, which ended without releasing it`
          : 'took over an expired run lock; the run that held it stopped without releasing it',
        { key, previousOwner: lease?.owner ?? null },
      );
      return this.held(key, recordKey, taken.version, takeoverAt);
    }
    return null;
  }

  private held(key: string, recordKey: string, firstVersion: string, sentAt: number): StateLeaseHandle {
    const state = new LeaseState(this.clock, sentAt, this.ttlMs);
    let version = firstVersion;
    let renewing: Promise<boolean> | undefined;
    const renewOnce = async (): Promise<boolean> => {
      if (state.isLost) return false;
      const renewAt = this.clock.monotonicMs();
      try {
        const write = await this.store.replace(recordKey, this.record(), version);
        if (!write.ok) {
          state.markLost('another run took the lock over (the lease record changed)');
          this.log.warn('lost the run lock to another run; stop deleting', { key });
          return false;
        }
        version = write.version;
        state.renewed(renewAt);
        return true;
      } catch (error) {
        state.renewalFailed(describeError(error));
        this.log.warn('could not renew the run lock; another run may start once it expires', {
          key,
          error: describeError(error),
        });
        return false;
      }
    };
    const renew = (): Promise<boolean> => {
      renewing ??= renewOnce().finally(() => {
        renewing = undefined;
      });
      return renewing;
    };
    const timer = this.renewMs > 0 ? setInterval(() => void renew(), this.renewMs) : undefined;
    timer?.unref();
    let released = false;
    return {
      key,
      renew,
      heldFor: (marginMs) => state.heldFor(marginMs),
      lostReason: () => state.lostReason(),
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await renewing?.catch(() => undefined);
        const wasLost = state.isLost;
        state.markReleased();
        if (wasLost) return; // someone else's lease now: never delete it
        try {
          await this.store.delete(recordKey, version);
        } catch (error) {
          this.log.warn('could not release the run lock; it expires by itself', { key, error: describeError(error) });
        }
      },
    };
  }
}
