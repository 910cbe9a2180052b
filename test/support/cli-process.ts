/**
 * Runs the real CLI (lib/cli/main.ts) as one child process that a test can signal at a precise
 * point (from a fault-proxy hook): SIGKILL for a crash, SIGINT/SIGTERM for a stop.
 *
 * `node --import tsx` rather than the `tsx` binary: the binary runs the CLI in a grandchild and
 * relays signals to it, and SIGKILL cannot be relayed, so killing it would leave the CLI running.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'lib', 'cli', 'main.ts');
/** A run that has not ended by then is killed (and says so in `timedOut`): a hung run must not hang the suite. */
const DEFAULT_TIMEOUT_MS = 120_000;

export interface CliExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the runner killed it for running past its timeout. */
  readonly timedOut: boolean;
}

export interface CliProcess {
  readonly pid: number | undefined;
  /** Sends a signal; false when the process had already ended. */
  kill(signal: NodeJS.Signals): boolean;
  /** True once the process has ended. */
  readonly ended: boolean;
  /** Resolves when the process has ended and its output is closed. */
  readonly done: Promise<CliExit>;
  /** Output so far (for a hook that waits for a message before acting). */
  stdoutSoFar(): string;
  stderrSoFar(): string;
}

/** Starts `regprune ARGS` and returns at once; `done` resolves with the exit code or signal and the output. */
export function spawnCli(
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number; readonly cwd?: string } = {},
): CliProcess {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, ...args],
    {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let ended = false;
  let timedOut = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const done = new Promise<CliExit>((resolvePromise, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      ended = true;
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      ended = true;
      resolvePromise({ code, signal, stdout, stderr, timedOut });
    });
  });
  return {
    pid: child.pid,
    kill: (signal) => (ended ? false : child.kill(signal)),
    get ended() {
      return ended;
    },
    done,
    stdoutSoFar: () => stdout,
    stderrSoFar: () => stderr,
  };
}

/** Runs `regprune ARGS` to the end. */
export function runCliToEnd(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliExit> {
  return spawnCli(args, env ? { env } : {}).done;
}
