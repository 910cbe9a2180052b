/**
 * A token bucket that adapts to the registry's answer (docs/design.md, "Request budget"): it sends
 * at most `ratePerSecond` requests a second (bursts up to `burst`), takes a quarter off its rate on
 * every throttled answer (429, ThrottlingException) and holds everyone until a `Retry-After` has passed,
 * then climbs back by a tenth of its ceiling per quiet `recoverStepMs`. Unbounded (`Infinity`)
 * until the first throttle, which sets the rate to half of what was actually being sent (at least
 * 5 a second); that rate then doubles per quiet step.
 * The clock is injected: tests drive it without waiting.
 */

/** Time as the bucket sees it. */
export interface BucketClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const SYSTEM_CLOCK: BucketClock = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TokenBucketOptions {
  /** Requests a second at most; `Infinity` = no limit until the registry throttles. */
  readonly ratePerSecond: number;
  /** Requests that may go at once after a quiet spell (default: one second's worth, at least 1). */
  readonly burst?: number;
  /** The rate never drops below this (default 0.5 a second). */
  readonly minRatePerSecond?: number;
  /** A quiet spell this long after a throttle raises the rate one step (default 2 s). */
  readonly recoverStepMs?: number;
  readonly clock?: BucketClock;
}

/** What the bucket measured, for the report's and the bench's figures. */
export interface BucketStats {
  /** Tokens handed out. */
  taken: number;
  /** Throttled answers it was told about. */
  throttled: number;
  /** Time callers spent waiting for a token, summed over callers (ms). */
  waitedMs: number;
}

const DEFAULT_MIN_RATE = 0.5;
/** The least rate a throttle sets an unbounded bucket to (requests a second). */
const DERIVED_FLOOR = 5;
const DEFAULT_RECOVER_STEP_MS = 2_000;
/** What a throttle leaves of a configured (finite) rate. */
const KNOWN_RATE_BACKOFF = 0.75;
/** The window over which the bucket measures what is sent, to set a first rate when it had none. */
const OBSERVE_WINDOW_MS = 1_000;

/** One budget: FIFO, so no caller starves. */
export class TokenBucket {
  /** The configured rate: recovery climbs back to it, never above. */
  readonly ceiling: number;
  private current: number;
  private tokens: number;
  private lastRefillMs: number;
  /** Nobody gets a token before this (a `Retry-After`). */
  private blockedUntilMs = 0;
  private lastThrottleMs: number | null = null;
  private lastStepMs = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly recent: number[] = [];
  private readonly clock: BucketClock;
  private readonly minRate: number;
  private readonly recoverStepMs: number;
  private readonly burstSize: number | undefined;
  readonly stats: BucketStats = { taken: 0, throttled: 0, waitedMs: 0 };

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0))
      throw new Error(`token bucket: rate must be above 0, got ${options.ratePerSecond}`);
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.ceiling = options.ratePerSecond;
    this.current = options.ratePerSecond;
    this.minRate = options.minRatePerSecond ?? DEFAULT_MIN_RATE;
    this.recoverStepMs = options.recoverStepMs ?? DEFAULT_RECOVER_STEP_MS;
    this.burstSize = options.burst;
    this.tokens = this.burst();
    this.lastRefillMs = this.clock.nowMs();
  }

  /** The rate in force now (requests a second). */
  get rate(): number {
    this.recover(this.clock.nowMs());
    return this.current;
  }

  /** Waits for a token. Callers are served in the order they asked. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.acquire());
    // A failed sleep must not wedge the queue for the next caller.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The registry throttled a request: halve the rate (from what was really sent when unbounded)
   * and, with a `Retry-After`, give no token before it has passed.
   */
  throttled(retryAfterMs?: number): void {
    const now = this.clock.nowMs();
    this.stats.throttled++;
    this.refill(now);
    // Unbounded: half of what was really sent, but a few requests a second at least. A throttle
    // after a handful of calls says the quota is shared or spent, not that it is that small.
    // A known rate: a throttle at it is jitter or a quota shared with others, so back off by a
    // quarter, not half (the registry's own token bucket refills at the quota all along).
    this.current = Number.isFinite(this.current)
      ? Math.max(this.minRate, this.current * KNOWN_RATE_BACKOFF)
      : Math.max(this.minRate, DERIVED_FLOOR, this.observedRate(now) / 2);
    // The registry just said the quota is spent: no burst until tokens have been earned again.
    this.tokens = 0;
    this.lastThrottleMs = now;
    this.lastStepMs = now;
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      this.blockedUntilMs = Math.max(this.blockedUntilMs, now + retryAfterMs);
    }
  }

  private async acquire(): Promise<void> {
    const started = this.clock.nowMs();
    for (;;) {
      const now = this.clock.nowMs();
      this.recover(now);
      this.refill(now);
      const blockedMs = this.blockedUntilMs - now;
      if (blockedMs <= 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.stats.taken++;
        this.stats.waitedMs += now - started;
        this.observe(now);
        return;
      }
      const refillMs = Number.isFinite(this.current) ? ((1 - this.tokens) / this.current) * 1000 : 0;
      await this.clock.sleep(Math.max(blockedMs, refillMs, 1));
    }
  }

  private refill(now: number): void {
    const elapsedMs = Math.max(0, now - this.lastRefillMs);
    this.lastRefillMs = now;
    if (!Number.isFinite(this.current)) {
      this.tokens = Infinity;
      return;
    }
    if (!Number.isFinite(this.tokens)) this.tokens = this.burst();
    this.tokens = Math.min(this.burst(), this.tokens + (elapsedMs / 1000) * this.current);
  }

  /** Additive increase: a tenth of the ceiling (of the rate reached when unbounded) per quiet step. */
  private recover(now: number): void {
    if (this.lastThrottleMs === null || this.current >= this.ceiling) return;
    const steps = Math.floor((now - this.lastStepMs) / this.recoverStepMs);
    if (steps <= 0) return;
    this.refill(now);
    // A known ceiling: back up in tenths of it. None: double per quiet step, the quota being unknown.
    this.current = Number.isFinite(this.ceiling)
      ? Math.min(this.ceiling, this.current + (steps * this.ceiling) / 10)
      : this.current * 2 ** Math.min(steps, 30);
    this.lastStepMs += steps * this.recoverStepMs;
  }

  private burst(): number {
    if (this.burstSize !== undefined) return Math.max(1, this.burstSize);
    return Number.isFinite(this.current) ? Math.max(1, this.current) : Infinity;
  }

  private observe(now: number): void {
    this.recent.push(now);
    while (this.recent.length > 0 && this.recent[0]! <= now - OBSERVE_WINDOW_MS) this.recent.shift();
  }

  private observedRate(now: number): number {
    while (this.recent.length > 0 && this.recent[0]! <= now - OBSERVE_WINDOW_MS) this.recent.shift();
    return (this.recent.length * 1000) / OBSERVE_WINDOW_MS;
  }
}
