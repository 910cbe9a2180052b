/**
 * Azurite's queue service beside its blob service (test/support/azurite.ts), each a child process
 * on 127.0.0.1 and a free port, in memory: one connection string reaches both, as
 * `AzureWebJobsStorage` does in a function app.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, type Azurite } from './azurite.js';

async function startQueueService(): Promise<{ port: number; stop(): Promise<void> }> {
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/queue/main.js');
  const cwd = mkdtempSync(join(tmpdir(), 'azurite-queue-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      '0',
      '--inMemoryPersistence',
      '--silent',
      '--skipApiVersionCheck',
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`azurite queue did not start within 30 s: ${output}`)), 30_000);
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
      reject(new Error(`azurite queue exited with ${code}: ${output}`));
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

/** Azurite blob + queue; `connectionString` names both endpoints. */
export async function startAzuriteWithQueue(): Promise<Azurite> {
  const [blob, queue] = await Promise.all([startAzurite(), startQueueService()]);
  return {
    connectionString: `${blob.connectionString}QueueEndpoint=http://127.0.0.1:${queue.port}/devstoreaccount1;`,
    stop: async () => {
      await Promise.all([blob.stop(), queue.stop()]);
    },
  };
}
