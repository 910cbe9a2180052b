/**
 * One run per registry at a time. A `RunLock` is the seam; every host uses a lease record on its
 * state store (`state-lease.ts`). The key is the registry's endpoint (`lockKeyFor`), so two
 * configs naming one registry differently still exclude each other. docs/design.md, "Run lock".
 */

/** A held lock; `release` is idempotent and never throws. */
export interface LockHandle {
  readonly key: string;
  /**
   * True only while this run still safely holds the lock for at least `marginMs` more: local
   * monotonic time is before the known expiry minus `marginMs`, and the last renewal did not fail.
   * Ask before every destructive batch; stop deleting when it is false.
   */
  heldFor(marginMs: number): boolean;
  /** Why the lock is not (or no longer known to be) held, or null while it is. */
  lostReason(): string | null;
  release(): Promise<void>;
}

/** Who holds a lock, for the message of a run that found it busy. */
export interface LockHolder {
  /** `host:pid:id` of the holding run. */
  readonly owner: string;
  /** When its lease ends unless renewed (ISO 8601). */
  readonly expiresAt: string;
}

export interface RunLock {
  /** Takes the lock for `key` (`lockKeyFor(registry)`), or returns `null` when another run holds it. */
  acquire(key: string): Promise<LockHandle | null>;
  /** Who holds `key` now, or null when nobody does (or the lock cannot tell). */
  holderOf?(key: string): Promise<LockHolder | null>;
}

/** Local time for leases: wall clock for the shared record, monotonic time for the local verdict. */
export interface LeaseClock {
  /** Wall-clock ms since the epoch (written into lease records other hosts read). */
  wallMs(): number;
  /** Monotonic ms (never jumps back); what `heldFor` trusts. */
  monotonicMs(): number;
}

/** The process clocks. */
export const systemLeaseClock: LeaseClock = {
  wallMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

/**
 * The bookkeeping behind `heldFor`/`lostReason`, shared by every lock: the locally known expiry
 * (monotonic), whether the last renewal failed, and whether the lease was lost for good.
 */
export class LeaseState {
  private expiresAtMono: number;
  private renewalError: string | null = null;
  private lost: string | null = null;
  private released = false;

  constructor(
    private readonly clock: LeaseClock,
    /** Monotonic time just before the request that took the lease was sent. */
    sentAtMono: number,
    private readonly ttlMs: number,
  ) {
    this.expiresAtMono = sentAtMono + ttlMs;
  }

  /** A renewal sent at `sentAtMono` succeeded: the lease runs `ttlMs` from then. */
  renewed(sentAtMono: number): void {
    this.expiresAtMono = sentAtMono + this.ttlMs;
    this.renewalError = null;
  }

  /** A renewal failed for a reason that may pass (network, throttling). */
  renewalFailed(reason: string): void {
    this.renewalError = reason;
  }

  /** Another run holds the lease now; this one never gets it back. */
  markLost(reason: string): void {
    this.lost ??= reason;
  }

  markReleased(): void {
    this.released = true;
  }

  get isLost(): boolean {
    return this.lost !== null || this.released;
  }

  heldFor(marginMs: number): boolean {
    return this.lostReason(marginMs) === null;
  }

  lostReason(marginMs = 0): string | null {
    if (this.released) return 'the lock was released';
    if (this.lost !== null) return this.lost;
    if (this.renewalError !== null) return `the last renewal of the lock failed: ${this.renewalError}`;
    const left = this.expiresAtMono - this.clock.monotonicMs();
    if (left <= marginMs) {
      return left <= 0
        ? 'the lease expired before it was renewed'
        : `the lease expires in ${Math.round(left)} ms, within the ${marginMs} ms safety margin`;
    }
    return null;
  }
}
