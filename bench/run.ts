/**
 * `npm run bench`: runs every benchmark in bench/ (each a standalone script printing Markdown),
 * one after another so they do not compete for the CPU, and passes their Markdown through.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((name) => name.endsWith('.ts') && name !== self)
  .sort();

const failed: string[] = [];
process.stdout.write(`# regprune benchmarks\n\nNode ${process.version}, ${new Date().toISOString()}\n\n`);
for (const name of benches) {
  process.stderr.write(`bench: running ${name}\n`);
  const result = spawnSync('npx', ['tsx', join(here, name)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    cwd: join(here, '..'),
  });
  process.stdout.write('\n');
  if (result.status !== 0) failed.push(`${name} (exit ${result.status ?? result.signal})`);
}
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
