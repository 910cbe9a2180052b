/**
 * Progress on stderr (docs/cli.md, "Progress"): bars for listing and deletion on a terminal
 * (cli-progress), one plain line at most every few seconds elsewhere (CI, a pipe, a file), nothing
 * but warnings and errors with --quiet, every detail with --verbose. Colour (picocolors) only on a
 * terminal and never with NO_COLOR.
 */
import cliProgress from 'cli-progress';
import pc from 'picocolors';
import { streamLogger, type Logger } from '../log.js';
import type { Provider } from '../providers/provider.js';
import type { Paint } from '../report/plan-detail.js';
import { formatCount } from '../report/units.js';
import type { RunProgress } from '../run/progress-events.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

/** How often a plain progress line may be written when stderr is not a terminal. */
export const PLAIN_INTERVAL_MS = 10_000;

export interface DisplayOptions {
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly verbosity: Verbosity;
  /** Milliseconds, for rates and the plain lines' interval; default `Date.now`. */
  readonly nowMs?: () => number;
  readonly intervalMs?: number;
}

export interface RunDisplay {
  readonly log: Logger;
  readonly progress: RunProgress;
  /** The provider, with its deletions counted for the deletion bar. */
  countDeletions(provider: Provider): Provider;
  /** Ends the bars (leaving their last state on screen). */
  stop(): void;
}

/** True when colour may be written to a stream: a terminal, no NO_COLOR, not TERM=dumb (no-color.org). */
export function colourWanted(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

/** Colours for the plan listing on stdout, or none. */
export function paintFor(enabled: boolean): Paint {
  const colours = pc.createColors(enabled);
  return { keep: colours.green, remove: colours.red, dim: colours.dim, bold: colours.bold };
}

/** True when a run shows bars: a terminal, outside CI, not --quiet. */
export function barsWanted(options: Pick<DisplayOptions, 'stderr' | 'env' | 'verbosity'>): boolean {
  const ci = (options.env.CI ?? '') !== '' && options.env.CI !== 'false';
  return options.stderr.isTTY === true && !ci && options.verbosity !== 'quiet';
}

/** What a run has done so far. */
export interface ProgressCounts {
  matched: number;
  listed: number;
  images: number;
  planned: number;
  deleted: number;
  deletingSinceMs: number | null;
}

/** The display of one CLI run. */
export function runDisplay(options: DisplayOptions): RunDisplay {
  const nowMs = options.nowMs ?? Date.now;
  const colours = pc.createColors(colourWanted(options.stderr, options.env));
  const counts: ProgressCounts = { matched: 0, listed: 0, images: 0, planned: 0, deleted: 0, deletingSinceMs: null };
  const bars = barsWanted(options) ? new Bars(options.stderr) : null;
  const write = (line: string) => (bars?.active ? bars.log(line) : options.stderr.write(line));
  const lines = streamLogger({
    stream: { write: (text: string) => write(text) } as NodeJS.WritableStream,
    verbose: options.verbosity === 'verbose',
  });
  const showInfo = options.verbosity === 'verbose' || (options.verbosity === 'normal' && options.stderr.isTTY === true);
  const log: Logger = {
    debug: lines.debug,
    info: showInfo ? lines.info : () => {},
    warn: (message, fields) => lines.warn(colours.yellow(message), fields),
    error: (message, fields) => lines.error(colours.red(message), fields),
  };

  const startedMs = nowMs();
  let lastLineMs = startedMs;
  const plainLine = () => {
    if (bars || options.verbosity === 'quiet') return;
    const at = nowMs();
    if (at - lastLineMs < (options.intervalMs ?? PLAIN_INTERVAL_MS)) return;
    lastLineMs = at;
    options.stderr.write(`regprune: progress: ${describeCounts(counts, at)}\n`);
  };
  const update = () => {
    bars?.update(counts, nowMs());
    plainLine();
  };

  return {
    log,
    progress: {
      matched(_registry, repositories) {
        counts.matched += repositories;
        update();
      },
      planned(_registry, _repository, images, deletions) {
        counts.listed++;
        counts.images += images;
        counts.planned += deletions;
        update();
      },
      finished() {
        update();
      },
    },
    countDeletions(provider) {
      return new Proxy(provider, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (property === 'delete' && typeof value === 'function') {
            return async (...args: Parameters<Provider['delete']>) => {
              counts.deletingSinceMs ??= nowMs();
              const results = await target.delete(...args);
              counts.deleted += results.filter((result) => result.ok).length;
              update();
              return results;
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    stop() {
      bars?.stop();
    },
  };
}

/** `3/10 repositories listed (1,234 images); deleted 120 of 1,497 (45/s, about 30 s left)`. */

/** One plain progress line. */
export function describeCounts(counts: ProgressCounts, atMs: number): string {
  const listed = `${formatCount(counts.listed)}/${formatCount(counts.matched)} repositories listed (${formatCount(
    counts.images,
  )} images)`;
  // Only a real run calls delete: until then (and in a dry run) the planned count is the news.
  if (counts.deletingSinceMs === null) return `${listed}; ${formatCount(counts.planned)} deletions planned`;
  const rate = rateOf(counts, atMs);
  const left = rate > 0 ? `, about ${Math.ceil((counts.planned - counts.deleted) / rate)} s left` : '';
  return `${listed}; deleted ${formatCount(counts.deleted)} of ${formatCount(counts.planned)} so far (${
    rate > 0 ? `${rate.toFixed(rate < 10 ? 1 : 0)}/s` : 'starting'
  }${left})`;
}

function rateOf(counts: ProgressCounts, atMs: number): number {
  if (counts.deletingSinceMs === null || counts.deleted === 0) return 0;
  const seconds = (atMs - counts.deletingSinceMs) / 1000;
  return seconds > 0 ? counts.deleted / seconds : 0;
}

/** Two bars: repositories listed (with images), and deletions (with rate and ETA) in a real run. */
class Bars {
  private readonly multi: cliProgress.MultiBar;
  private readonly listing: cliProgress.SingleBar;
  private deleting: cliProgress.SingleBar | null = null;

  constructor(stream: NodeJS.WritableStream) {
    this.multi = new cliProgress.MultiBar(
      {
        stream: stream as NodeJS.WriteStream,
        clearOnComplete: false,
        hideCursor: true,
        etaBuffer: 50,
        barsize: 24,
        format: ' {phase} {bar} {value}/{total} {unit} | {detail} | ETA {eta_formatted}',
      },
      cliProgress.Presets.shades_classic,
    );
    this.listing = this.multi.create(0, 0, { phase: 'listing ', unit: 'repositories', detail: '0 images' });
  }

  update(counts: ProgressCounts, atMs: number): void {
    this.listing.setTotal(counts.matched);
    this.listing.update(counts.listed, {
      detail: `${formatCount(counts.images)} images, ${formatCount(counts.planned)} deletions planned`,
    });
    if (counts.deletingSinceMs === null) return;
    this.deleting ??= this.multi.create(counts.planned, 0, { phase: 'deleting', unit: 'images', detail: '' });
    this.deleting.setTotal(counts.planned);
    const rate = rateOf(counts, atMs);
    this.deleting.update(counts.deleted, { detail: rate > 0 ? `${rate.toFixed(rate < 10 ? 1 : 0)}/s` : 'starting' });
  }

  /** False once stopped: lines go straight to the stream then. */
  active = true;

  log(line: string): void {
    this.multi.log(line);
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    // Draws the last state and flushes lines logged since the last redraw (stop() alone drops them).
    this.multi.update();
    this.multi.stop();
  }
}
