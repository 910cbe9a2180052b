/**
 * The status of an asynchronous on-demand run, a record in the state store (`runs/<run id>`):
 * queued → running → done | failed, with progress while it runs and the report when it is done.
 * The state store holds it, so neither Azure's 230 s HTTP limit nor the 6 MB of a Lambda answer
 * bounds a run. docs/design.md, "HTTP", "Async runs".
 */
import { z } from 'zod';
import type { RunCaller } from '../run/caller.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Report } from '../report/types.js';
import type { RunProgressEvent } from '../run/progress.js';
import { readJson, type StateStore } from '../state/store.js';
import { RUN_ID_PATTERN } from './message.js';

export const RUN_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

const ProgressSchema = z.object({
  repositories: z.object({ done: z.number(), total: z.number() }),
  deletions: z.object({ done: z.number(), planned: z.number() }),
});
export type RunProgress = z.infer<typeof ProgressSchema>;

export const RunStatusSchema = z.object({
  version: z.literal(1),
  runId: z.string(),
  state: z.enum(RUN_STATES),
  /** The validated request body the run was started with. */
  request: z.unknown(),
  /** Who started it (lib/run/caller.ts): the run's report records it too. Never a token. */
  caller: z.custom<RunCaller>((value) => typeof value === 'object' && value !== null && 'kind' in value).optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  progress: ProgressSchema,
  /** Registries another run held the lock of (done) or holds now (queued again). */
  busy: z.array(z.string()).optional(),
  /** When done: the report (docs/design.md, "Report"). */
  report: z.unknown().optional(),
  /** When failed: what went wrong and what to do. */
  error: z.string().optional(),
});
export type RunStatus = z.infer<typeof RunStatusSchema>;

/**
 * A run still `running` this long after it started had its worker killed (a host timeout, a
 * crash): longer than either host lets an invocation live (Azure 30 min, Lambda 15 min).
 */
export const RUNNING_STALE_MS = 45 * 60_000;

const NO_PROGRESS: RunProgress = { repositories: { done: 0, total: 0 }, deletions: { done: 0, planned: 0 } };

/** The record key of a run. */
export function runStatusKey(runId: string): string {
  return `runs/${runId}`;
}

export interface StatusRead {
  readonly status: RunStatus;
  readonly version: string;
}

/** Reads a run's status; null for an id that is malformed or unknown (both answer 404). */
export async function readRunStatus(store: StateStore, runId: string): Promise<StatusRead | null> {
  if (!RUN_ID_PATTERN.test(runId)) return null;
  const record = await readJson(store, runStatusKey(runId));
  if (record === null) return null;
  const parsed = RunStatusSchema.safeParse(record.value);
  if (!parsed.success) throw new Error(`run status ${runStatusKey(runId)} in ${store.location} is unreadable`);
  return { status: parsed.data, version: record.version };
}

/** Records a new run as queued; false when the id is taken (it never is: 128 random bits). */
export async function createQueuedRun(
  store: StateStore,
  input: { runId: string; request: unknown; now: Date; caller?: RunCaller },
): Promise<boolean> {
  const status: RunStatus = {
    version: 1,
    runId: input.runId,
    state: 'queued',
    request: input.request ?? {},
    ...(input.caller ? { caller: input.caller } : {}),
    createdAt: input.now.toISOString(),
    progress: NO_PROGRESS,
  };
  return (await store.create(runStatusKey(input.runId), JSON.stringify(status))).ok;
}

/**
 * Marks a run failed whose worker was killed mid-run (still `running` after RUNNING_STALE_MS), when
 * the platform delivers its message again; returns whether it did.
 */
export async function failIfAbandoned(store: StateStore, runId: string, now: Date): Promise<boolean> {
  const read = await readRunStatus(store, runId);
  if (read === null || read.status.state !== 'running' || read.status.startedAt === undefined) return false;
  if (now.getTime() - Date.parse(read.status.startedAt) < RUNNING_STALE_MS) return false;
  const failed: RunStatus = {
    ...read.status,
    state: 'failed',
    finishedAt: now.toISOString(),
    error:
      'the worker stopped before the run finished (killed, or past the host timeout); what it deleted stays ' +
      'deleted. Start a new run, or narrow it with "registry" or "repository"',
  };
  return (await store.replace(runStatusKey(runId), JSON.stringify(failed), read.version)).ok;
}

/**
 * The worker's handle on one run's record: it alone writes it once it claimed the run, each write
 * a compare-and-swap on the version it last wrote. Progress is written at most once per
 * `progressEveryMs`; a failed progress write is logged and never fails the run.
 */
export class RunStatusWriter {
  private progress: RunProgress = NO_PROGRESS;
  private lastWriteMs = Number.NEGATIVE_INFINITY;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: StateStore,
    private status: RunStatus,
    private version: string,
    private readonly options: { now: () => Date; monotonicMs: () => number; progressEveryMs: number; log: Logger },
  ) {}

  /** Moves a queued run to running; null when it is not queued (a duplicate delivery) or another worker won. */
  static async claim(
    store: StateStore,
    runId: string,
    options: { now: () => Date; monotonicMs: () => number; progressEveryMs: number; log: Logger },
  ): Promise<RunStatusWriter | null> {
    const read = await readRunStatus(store, runId);
    if (read === null || read.status.state !== 'queued') return null;
    const running: RunStatus = { ...read.status, state: 'running', startedAt: options.now().toISOString() };
    const write = await store.replace(runStatusKey(runId), JSON.stringify(running), read.version);
    if (!write.ok) return null;
    return new RunStatusWriter(store, running, write.version, options);
  }

  get request(): unknown {
    return this.status.request;
  }

  get caller(): RunCaller | undefined {
    return this.status.caller;
  }

  /** Counts a progress event; writes the record when the last write is old enough. */
  onProgress(event: RunProgressEvent): void {
    const { repositories, deletions } = this.progress;
    this.progress =
      event.kind === 'registry'
        ? { repositories: { ...repositories, total: repositories.total + event.repositories }, deletions }
        : {
            repositories: { ...repositories, done: repositories.done + 1 },
            deletions: { done: deletions.done + event.deleted, planned: deletions.planned + event.planned },
          };
    const nowMs = this.options.monotonicMs();
    if (nowMs - this.lastWriteMs < this.options.progressEveryMs) return;
    this.lastWriteMs = nowMs;
    const progress = this.progress;
    this.writing = this.writing.then(() =>
      this.write({ ...this.status, progress }).catch((error) =>
        this.options.log.warn(`could not record the run's progress: ${describeError(error)}`),
      ),
    );
  }

  /** The run finished: its report, and the registries that were busy. */
  async done(report: Report, busy: readonly string[]): Promise<void> {
    await this.finish({
      state: 'done',
      report,
      ...(busy.length > 0 ? { busy: [...busy] } : {}),
      progress: this.progress,
    });
  }

  /** The run could not run or broke off: why, and what to do. */
  async failed(error: string): Promise<void> {
    await this.finish({ state: 'failed', error, progress: this.progress });
  }

  /** Every requested registry was busy: back to queued, to be tried again. */
  async requeue(busy: readonly string[]): Promise<void> {
    await this.writing;
    const { startedAt: _started, ...rest } = this.status;
    await this.write({ ...rest, state: 'queued', busy: [...busy] });
  }

  private async finish(update: Partial<RunStatus>): Promise<void> {
    await this.writing;
    await this.write({ ...this.status, ...update, finishedAt: this.options.now().toISOString() });
  }

  private async write(status: RunStatus): Promise<void> {
    const write = await this.store.replace(runStatusKey(status.runId), JSON.stringify(status), this.version);
    if (!write.ok) throw new Error(`run status ${runStatusKey(status.runId)} changed under its worker`);
    this.status = status;
    this.version = write.version;
  }
}
