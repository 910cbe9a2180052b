/**
 * What every e2e file shares: running the real CLI as a child process, writing configs, and the
 * rule that decides whether a machine without docker-registry skips (locally) or fails (CI).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../lib/config/load.js';
import type { Config } from '../../lib/config/schema.js';
import type { Report } from '../../lib/report/types.js';
import { registryUnavailableReason } from '../support/registry.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(REPO_ROOT, 'lib', 'cli', 'main.ts');
const CLI_TIMEOUT_MS = 120_000;
/** Seeding, several CLI runs and garbage-collect on a shared 2-core machine: generous, never asserted. */
export const SETUP_TIMEOUT_MS = 300_000;

/** True under CI (`CI=true`, `CI=1`): a registry that cannot start must fail the tests there. */
export const IN_CI =
  process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * Why this machine skips the e2e suite, or `null` to run it. Under CI never skip: `beforeAll`
 * then throws when the registry cannot start, and the suite fails.
 */
export function e2eSkipReason(): string | null {
  if (IN_CI) return null;
  const reason = registryUnavailableReason();
  if (reason !== null) {
    console.error(`\n!!!!!!!!\n!!! e2e tests SKIPPED (not under CI): ${reason}\n!!!!!!!!\n`);
  }
  return reason;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `regprune ARGS` (lib/cli/main.ts through tsx) and collects its exit code and output. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  // The run's lock and history go to a temp dir of its own, never to the real ~/.cache.
  const stateDir = await mkdtemp(join(tmpdir(), 'regprune-e2e-state-'));
  return spawnCli(args, { REGPRUNE_STATE: stateDir, ...env }).finally(() =>
    rm(stateDir, { recursive: true, force: true }),
  );
}

function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Parses `--json` output, failing with the CLI's stderr when stdout is not a report. */
export function parseReport(result: CliResult): Report {
  try {
    return JSON.parse(result.stdout) as Report;
  } catch {
    throw new Error(
      `CLI exited ${result.code} without a JSON report on stdout.\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ` +
        `${result.stderr.slice(-3000)}`,
    );
  }
}

/** A temp dir for config files; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'regprune-e2e-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a config (JSON is YAML) and returns its path. */
export async function writeConfig(dir: string, name: string, config: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return path;
}

/** `repo → digest → sorted tags` of everything a report deleted (or, in a dry run, would delete). */
export function deletedByRepository(report: Report): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const registry of report.registries) {
    for (const repository of registry.repositories) {
      const byDigest = new Map<string, string[]>();
      for (const entry of repository.deleted) byDigest.set(entry.digest, [...entry.tags].sort());
      out.set(repository.name, byDigest);
    }
  }
  return out;
}

/** Flattens a `deletedByRepository` map into sorted `repo@digest tags` lines (for equality checks). */
export function deletedLines(report: Report): string[] {
  const lines: string[] = [];
  for (const [repository, byDigest] of deletedByRepository(report)) {
    for (const [digest, tags] of byDigest) lines.push(`${repository}@${digest} ${tags.join(',')}`);
  }
  return lines.sort();
}

/** A real run over one OCI registry where `repository` keeps its `keep` newest builds, nothing pinned. */
export function keepNewest(endpoint: string, repository: string, keep: number): Config {
  return parseConfig({
    version: 1,
    dryRun: false,
    defaults: { pinned: [], minAge: '1d' },
    registries: [{ name: 'local', provider: 'oci', endpoint, repositories: [{ match: repository, keep }] }],
  });
}
