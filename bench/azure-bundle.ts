/**
 * The Azure Functions package: sizes, and cold import time in fresh Node processes — what the
 * Functions host pays on every cold start and scale-out when it loads index.mjs to index the
 * functions — plus what the first invocation adds when it loads the pipeline and ACR chunks, and
 * what the first metrics export adds when it loads the OpenTelemetry / Azure Monitor chunks.
 * Target: index.mjs imports in < 150 ms.
 *
 *   npx tsx bench/azure-bundle.ts
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import { bundleAzure } from '../scripts/bundle-azure.js';

const RUNS = 9;
const TARGET_MS = 150;

function kib(n: number): string {
  return `${(n / 1024).toFixed(0)} KiB`;
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    `${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms (min ${sorted[0]!.toFixed(0)}, max ` +
    `${sorted[sorted.length - 1]!.toFixed(0)})`
  );
}

/** Milliseconds to import each module in order, in a fresh `node` process. */
function coldImport(modules: readonly string[]): number[] {
  const urls = JSON.stringify(modules.map((file) => pathToFileURL(file).href));
  const script =
    `const out = []; for (const url of ${urls}) { const t = performance.now(); await import(url); ` +
    `out.push(performance.now() - t); } console.log(JSON.stringify(out));`;
  const text = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(text.trim().split('\n').pop()!) as number[];
}

/**
 * The chunks lib/metrics/azure-monitor.ts loads for its SDKs: lib/metrics/azure-monitor-sdk.ts (or,
 * in older builds, the OpenTelemetry / Azure Monitor packages it imported directly).
 */
function metricsChunks(metafile: Metafile): string[] {
  const ownEntry = /lib\/metrics\/azure-monitor-sdk\.ts$/;
  const packageEntry = /node_modules\/(@opentelemetry\/[\w-]+|@azure\/monitor-[\w-]+)\/(build|dist)\/esm\/index\.js$/;
  return Object.entries(metafile.outputs)
    .filter(([, output]) => ownEntry.test(output.entryPoint ?? '') || packageEntry.test(output.entryPoint ?? ''))
    .map(([file]) => file);
}

/** `files` and every output they import statically, transitively. */
function staticClosure(metafile: Metafile, files: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  for (const file of files) visit(file);
  return seen;
}

/** The output file whose inputs include `input`. */
function outputWith(metafile: Metafile, input: string): string | undefined {
  return Object.keys(metafile.outputs).find(
    (file) => file.endsWith('.mjs') && Object.keys(metafile.outputs[file]!.inputs).some((i) => i.includes(input)),
  );
}

async function main(): Promise<void> {
  const outdir = await mkdtemp(join(tmpdir(), 'regprune-azure-bundle-'));
  try {
    const started = performance.now();
    const { entry, metafile } = await bundleAzure({ outdir });
    const buildMs = performance.now() - started;
    const cwd = process.cwd();
    const mjs = Object.keys(metafile.outputs)
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => join(cwd, file));
    const totalBytes = mjs.reduce((sum, file) => sum + statSync(file).size, 0);
    const gzipped = mjs.reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);
    const awsInputs = Object.keys(metafile.inputs).filter(
      (input) => input.includes('@aws-sdk/') || input.includes('providers/ecr/'),
    );
    const handlersChunk = outputWith(metafile, 'functions/azure/handlers.ts');
    const acrChunk = outputWith(metafile, 'lib/providers/acr/provider.ts');
    const metrics = metricsChunks(metafile);
    if (!handlersChunk || !acrChunk) throw new Error('bench: handlers or ACR chunk not found in the metafile');
    if (metrics.length === 0) throw new Error('bench: no metrics chunk found in the metafile');
    // What the metrics add to a first invocation: their chunks and the shared chunks the run has not loaded yet.
    const runLoaded = staticClosure(metafile, [handlersChunk, acrChunk]);
    const metricsOnly = [...staticClosure(metafile, metrics)].filter((file) => !runLoaded.has(file));
    const metricsBytes = metricsOnly.reduce((sum, file) => sum + metafile.outputs[file]!.bytes, 0);
    const files = readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const packageBytes = files.reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);

    const entryOnly: number[] = [];
    const firstInvocation: number[] = [];
    const firstMetrics: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      entryOnly.push(coldImport([entry])[0]!);
      const firstRun = [entry, join(cwd, handlersChunk), join(cwd, acrChunk), ...metrics.map((m) => join(cwd, m))];
      const [, handlers, acr, ...metricsMs] = coldImport(firstRun);
      firstInvocation.push(handlers! + acr!);
      firstMetrics.push(metricsMs.reduce((sum, ms) => sum + ms, 0));
    }
    const baseline = Array.from(
      { length: RUNS },
      () => coldImport([join(cwd, 'node_modules/@azure/functions/dist/azure-functions.js')])[0]!,
    );

    const median = [...entryOnly].sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
    const lines = [
      '## Azure Functions bundle (esbuild, ESM, node22 target, code splitting)',
      '',
      `Build: ${buildMs.toFixed(0)} ms. index.mjs ${kib(statSync(entry).size)}; all .mjs ${kib(totalBytes)} ` +
        `(${kib(gzipped)} gzipped) in ${mjs.length} files. AWS/ECR inputs in the bundle: ${awsInputs.length}.`,
      `The package: ${packageBytes} bytes in ${files.length} files. A first metrics export loads ` +
        `${kib(metricsBytes)} more in ${metricsOnly.length} files.`,
      '',
      `Fresh Node processes, ${RUNS} runs each, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} on ${cpus().length} cores:`,
      '',
      '| what | median (min, max) |',
      '|---|---|',
      `| cold import of index.mjs (host start: registers the two functions) | ${stats(entryOnly)} |`,
      `| for reference: @azure/functions' own dist file alone, unbundled | ${stats(baseline)} |`,
      `| first invocation adds: pipeline chunk + ACR provider chunk | ${stats(firstInvocation)} |`,
      `| first metrics export adds: the OpenTelemetry / Azure Monitor chunks | ${stats(firstMetrics)} |`,
      '',
      `Target < ${TARGET_MS} ms for the cold import: ${median < TARGET_MS ? 'met' : 'NOT met'} (median ` +
        `${median.toFixed(0)} ms).`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

await main();
