/**
 * Starts and stops a real registry for e2e tests, the demo and the benchmarks: Debian's
 * `docker-registry` (distribution 2.8) on a free loopback port, storing into a temp dir.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `docker-registry` package puts the binary; `REGISTRY_BIN` overrides it. */
export const REGISTRY_BIN = process.env.REGISTRY_BIN ?? 'docker-registry';

const START_ATTEMPTS = 5; // a free port can be taken by someone else between probing and binding
const READY_POLLS = 300; // × READY_POLL_MS: how long a start may take before we give up
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 5_000;

export interface RegistryOptions {
  /** `storage.delete.enabled` (default true); false makes every manifest DELETE answer 405. */
  readonly deleteEnabled?: boolean;
  /** Write the access log (one line per request, counted by `requestCount`); default true. */
  readonly accessLog?: boolean;
  /** Keep the temp dir on `dispose` (for debugging). */
  readonly keepDir?: boolean;
  /**
   * Start from a copy of another registry's storage (stopped first): the same seeded state many
   * times over without pushing it again.
   */
  readonly copyStorageFrom?: string;
  /** Require basic auth: the htpasswd file's content (bcrypt entries, `user:$2y$…`). */
  readonly htpasswd?: string;
}

export interface DiskUsage {
  /** Bytes of every file under the blob store (layers, configs, manifests). */
  readonly blobBytes: number;
  /** Number of blobs (each `…/blobs/sha256/xx/<hex>/data`). */
  readonly blobCount: number;
}

export interface RunningRegistry {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`, as in image references. */
  readonly host: string;
  readonly port: number;
  /** The temp dir holding config, storage and logs. */
  readonly dir: string;
  readonly storageDir: string;
  readonly configPath: string;
  /** Stops the server (SIGTERM, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage (after `stop`). */
  start(): Promise<void>;
  /** Stops the server, runs `garbage-collect` on its storage, starts it again; returns GC's output. */
  garbageCollect(): Promise<string>;
  /** Bytes and blobs on disk now. */
  diskUsage(): Promise<DiskUsage>;
  /** Requests the registry has logged so far (from its access log). */
  requestCount(): number;
  /** CPU time (user + system) the running server has used, in ms; `null` where /proc is missing. */
  cpuMs(): number | null;
  /** Stops the server and removes the temp dir. */
  dispose(): Promise<void>;
}

/** Why a registry cannot run here (no binary), or `null` when it can. */
export function registryUnavailableReason(): string | null {
  const probe = spawnSync(REGISTRY_BIN, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return (
      `cannot run "${REGISTRY_BIN} --version" (${probe.error?.message ?? `exit ${probe.status}`}); install it ` +
      `with: sudo apt-get install -y docker-registry`
    );
  }
  return null;
}

/** A port nobody listens on right now (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Response header each started registry sends with its own id: proof that the port answering is ours. */
const INSTANCE_HEADER = 'X-Regprune-Test-Instance';

function registryConfigYaml(
  storageDir: string,
  port: number,
  options: RegistryOptions,
  htpasswdPath: string,
  instanceId: string,
): string {
  const auth =
    options.htpasswd === undefined
      ? []
      : ['auth:', '  htpasswd:', '    realm: regprune-test', `    path: ${JSON.stringify(htpasswdPath)}`];
  return [
    ...auth,
    'version: 0.1',
    'log:',
    '  level: warn',
    '  formatter: text',
    '  accesslog:',
    `    disabled: ${options.accessLog === false ? 'true' : 'false'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    '  delete:',
    `    enabled: ${options.deleteEnabled === false ? 'false' : 'true'}`,
    '  cache:',
    '    blobdescriptor: inmemory',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  headers:',
    `    ${INSTANCE_HEADER}: [${JSON.stringify(instanceId)}]`,
    // A fixed secret silences the "no secret configured" warning; it only signs upload state.
    '  secret: regprune-test-only',
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

/** Starts a registry in a fresh temp dir on a free loopback port and waits until `/v2/` answers. */
export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const reason = registryUnavailableReason();
  if (reason !== null) throw new Error(`cannot start a registry: ${reason}`);
  killChildrenOnExit();
  const dir = await mkdtemp(join(tmpdir(), 'regprune-registry-'));
  const storageDir = join(dir, 'storage');
  const configPath = join(dir, 'config.yml');
  const accessLogPath = join(dir, 'access.log');
  const errorLogPath = join(dir, 'registry.log');
  const htpasswdPath = join(dir, 'htpasswd');
  if (options.htpasswd !== undefined) await writeFile(htpasswdPath, options.htpasswd);
  if (options.copyStorageFrom !== undefined) {
    // `cp -a` is an order of magnitude faster than fs.cp on thousands of small link files.
    const copy = spawnSync('cp', ['-a', options.copyStorageFrom, storageDir], { encoding: 'utf8' });
    if (copy.status !== 0)
      throw new Error(`cannot copy registry storage ${options.copyStorageFrom}: ${copy.stderr || copy.error?.message}`);
  }

  let port = 0;
  let child: ChildProcess | null = null;
  const instanceId = randomUUID();

  const launch = async (): Promise<void> => {
    const out = createWriteStream(accessLogPath, { flags: 'a' });
    const err = createWriteStream(errorLogPath, { flags: 'a' });
    await Promise.all([once(out, 'open'), once(err, 'open')]);
    const proc = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', out, err] });
    // The child holds its own copies of the log descriptors; ours would only leak across restarts.
    out.close();
    err.close();
    children.add(proc);
    let exited: string | null = null;
    proc.once('exit', (code, signal) => {
      exited = `exit ${code ?? signal}`;
      children.delete(proc);
    });
    proc.once('error', (error) => {
      exited = error.message;
    });
    child = proc;
    for (let i = 0; i < READY_POLLS; i++) {
      if (exited !== null) {
        throw new Error(`docker-registry stopped while starting (${exited}): ${tail(errorLogPath)}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${port}/v2/`);
        await response.arrayBuffer();
        // Another process may have taken the port between probing and binding: only our id counts.
        const ours = response.headers.get(INSTANCE_HEADER) === instanceId;
        // 401: up, and asking for the credentials it was configured with.
        if (ours && (response.status === 200 || (options.htpasswd !== undefined && response.status === 401))) return;
      } catch {
        // not listening yet
      }
      await sleep(READY_POLL_MS);
    }
    proc.kill('SIGKILL');
    throw new Error(
      `docker-registry did not answer on 127.0.0.1:${port}/v2/ within ${(READY_POLLS * READY_POLL_MS) / 1000}s: ` +
        `${tail(errorLogPath)}`,
    );
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  let lastError: unknown = null;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    port = await freePort();
    await writeFile(configPath, registryConfigYaml(storageDir, port, options, htpasswdPath, instanceId));
    try {
      await launch();
      lastError = null;
      break;
    } catch (error) {
      lastError = error;
      await stop();
      if (!/address already in use/.test(tail(errorLogPath))) break;
    }
  }
  if (lastError !== null) {
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
    throw lastError;
  }

  const countRequests = (): number => {
    if (!existsSync(accessLogPath)) return 0;
    return readFileSync(accessLogPath, 'utf8')
      .split('\n')
      .filter((line) => /"(GET|HEAD|POST|PUT|PATCH|DELETE) \//.test(line)).length;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    dir,
    storageDir,
    configPath,
    stop,
    start: launch,
    async garbageCollect() {
      await stop();
      if (!existsSync(join(storageDir, 'docker', 'registry', 'v2', 'repositories'))) {
        await launch(); // nothing pushed yet: garbage-collect would fail on the missing tree
        return '';
      }
      const gc = spawnSync(REGISTRY_BIN, ['garbage-collect', configPath], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      if (gc.status !== 0) {
        throw new Error(
          `docker-registry garbage-collect failed (exit ${gc.status}): ${(gc.stderr || gc.stdout).slice(-2000)}`,
        );
      }
      await launch();
      return gc.stdout + gc.stderr;
    },
    diskUsage: () => blobDiskUsage(storageDir),
    requestCount: countRequests,
    cpuMs: () => (child?.pid === undefined ? null : processCpuMs(child.pid)),
    async dispose() {
      await stop();
      if (!options.keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sums the blob store under a registry's filesystem root. */
export async function blobDiskUsage(storageDir: string): Promise<DiskUsage> {
  const root = join(storageDir, 'docker', 'registry', 'v2', 'blobs');
  let blobBytes = 0;
  let blobCount = 0;
  const walk = async (path: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return; // no blobs yet
    }
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        blobBytes += (await stat(full)).size;
        if (entry.name === 'data') blobCount++;
      }
    }
  };
  await walk(root);
  return { blobBytes, blobCount };
}

/** utime + stime of a process from /proc (Linux), in ms. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

function tail(path: string): string {
  if (!existsSync(path)) return '(no log)';
  const text = readFileSync(path, 'utf8').trim();
  return text.length === 0 ? '(empty log)' : text.slice(-800);
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}
