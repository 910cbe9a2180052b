/**
 * The AWS Lambda bundle: sizes, and cold import time in fresh Node processes (what Lambda's init
 * phase pays), with and without the lazily loaded ECR provider chunk (what the first invocation
 * adds). Target: the handler imports in < 150 ms.
 *
 *   npx tsx bench/aws-bundle.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import { AWS_HANDLERS, bundleAws } from '../scripts/bundle-aws.js';

const RUNS = 9;
const TARGET_MS = 150;

/** Output files an entry loads at import time (static imports, transitively). */
function staticClosure(metafile: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  return seen;
}

function bytes(files: Iterable<string>): number {
  let total = 0;
  for (const file of files) total += statSync(file).size;
  return total;
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(0)} KiB`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Milliseconds to import each module in order, in a fresh `node` process. */
function coldImport(modules: readonly string[], nodeArgs: readonly string[] = []): number[] {
  const urls = JSON.stringify(modules.map((file) => pathToFileURL(file).href));
  const script =
    `const out = []; for (const url of ${urls}) { const t = performance.now(); await import(url); ` +
    `out.push(performance.now() - t); } console.log(JSON.stringify(out));`;
  const text = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(text.trim().split('\n').pop()!) as number[];
}

async function main(): Promise<void> {
  const outdir = await mkdtemp(join(tmpdir(), 'regprune-aws-bundle-'));
  try {
    const cwd = process.cwd();
    const started = performance.now();
    const { metafile } = await bundleAws({ outdir });
    const buildMs = performance.now() - started;
    const outputs = Object.keys(metafile.outputs).filter((file) => file.endsWith('.mjs'));
    const ecrChunk = outputs.find((file) =>
      Object.keys(metafile.outputs[file]!.inputs).some((input) => input.includes('lib/providers/ecr/provider.ts')),
    );
    const azureInputs = Object.keys(metafile.inputs).filter(
      (input) => input.includes('@azure/') || input.includes('providers/acr/'),
    );
    const allMjs = (await readdir(outdir, { recursive: true }))
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => join(outdir, file));
    const gzipped = allMjs.reduce((total, file) => total + gzipSync(readFileSync(file)).length, 0);

    const lines: string[] = [];
    lines.push('## AWS Lambda bundle (esbuild, ESM, node22 target)', '');
    lines.push(
      `Build: ${buildMs.toFixed(0)} ms. All .mjs: ${kib(bytes(allMjs))} (${kib(gzipped)} gzipped), in ` +
        `${allMjs.length} files. Azure inputs in the bundle: ${azureInputs.length}.`,
      '',
    );
    lines.push('| handler | entry | loaded at import | + ECR chunk and its imports |', '|---|---|---|---|');
    for (const name of AWS_HANDLERS) {
      const entry = relative(cwd, join(outdir, `${name}.mjs`));
      const atImport = staticClosure(metafile, entry);
      const withEcr = ecrChunk ? new Set([...atImport, ...staticClosure(metafile, ecrChunk)]) : atImport;
      lines.push(`| ${name} | ${kib(bytes([entry]))} | ${kib(bytes(atImport))} | ${kib(bytes(withEcr))} |`);
    }

    const main = join(outdir, 'main.mjs');
    const modules = ecrChunk ? [main, join(cwd, ecrChunk)] : [main];
    const plain: number[][] = [];
    const withMaps: number[][] = [];
    for (let run = 0; run < RUNS; run++) {
      plain.push(coldImport(modules));
      withMaps.push(coldImport(modules, ['--enable-source-maps']));
    }
    const importMs = median(plain.map((r) => r[0]!));
    const ecrMs = median(plain.map((r) => r[1] ?? 0));
    const importMapsMs = median(withMaps.map((r) => r[0]!));
    lines.push(
      '',
      `Cold import in a fresh Node ${process.version} process, median of ${RUNS} (load average ` +
        `${loadavg()[0]!.toFixed(1)} on this shared machine):`,
      '',
    );
    lines.push('| what | median | min | target |', '|---|---|---|---|');
    lines.push(
      `| import main.mjs (Lambda init) | ${importMs.toFixed(0)} ms | ` +
        `${Math.min(...plain.map((r) => r[0]!)).toFixed(0)} ms | < ${TARGET_MS} ms ` +
        `${importMs < TARGET_MS ? 'met' : 'NOT met'} |`,
    );
    lines.push(
      `| then the ECR provider chunk (first invocation) | ${ecrMs.toFixed(0)} ms | ` +
        `${Math.min(...plain.map((r) => r[1] ?? 0)).toFixed(0)} ms | |`,
    );
    lines.push(
      `| import main.mjs with --enable-source-maps | ${importMapsMs.toFixed(0)} ms | ` +
        `${Math.min(...withMaps.map((r) => r[0]!)).toFixed(0)} ms | |`,
    );
    lines.push('', `Ratio, source maps on / off: ${(importMapsMs / importMs).toFixed(2)}×.`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

await main();
