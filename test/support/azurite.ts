/**
 * Azurite's blob service (the `azurite` devDependency) in a child process on 127.0.0.1 and a free
 * port, in memory, for the run-lock and Functions handler tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Azurite's well-known development account (public, documented; not a secret). */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** `AzureWebJobsStorage` connection string for this instance. */
  readonly connectionString: string;
  stop(): Promise<void>;
}

/** One Azurite service (blob or queue) as a child process on 127.0.0.1 and a free port, in memory. */
export async function startAzuriteService(
  service: 'blob' | 'queue',
  extraArgs: readonly string[] = [],
): Promise<{ port: number; stop(): Promise<void> }> {
  const main = createRequire(import.meta.url).resolve(`azurite/dist/src/${service}/main.js`);
  const cwd = mkdtempSync(join(tmpdir(), `azurite-${service}-`));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      `--${service}Host`,
      '127.0.0.1',
      `--${service}Port`,
      '0',
      '--inMemoryPersistence',
      ...extraArgs,
      '--silent',
      '--skipApiVersionCheck',
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`azurite ${service} did not start within 30 s: ${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite ${service} exited with ${code}: ${output}`));
    });
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Starts Azurite blob and resolves once it listens. */
export async function startAzurite(): Promise<Azurite> {
  const blob = await startAzuriteService('blob', ['--extentMemoryLimit', '64', '--disableTelemetry']);
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
      `BlobEndpoint=http://127.0.0.1:${blob.port}/${ACCOUNT};`,
    stop: () => blob.stop(),
  };
}
