/**
 * Bundles the AWS Lambda handlers with esbuild: one ESM file per handler in dist/aws (main.mjs is
 * the one Terraform deploys), for Node 22 (Lambda runs nodejs22.x). Only the ECR and OCI
 * providers go in: the ACR adapter is replaced by a stub, and any @azure/* import fails the build.
 *
 *   npm run bundle:aws [-- --config regprune.yaml]   # the file is shipped as dist/aws/regprune.yaml
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const AWS_HANDLERS = ['main', 'scheduled', 'http'] as const;

/** Keeps Azure code out: the ACR adapter becomes a stub that says where it is available. */
const noAzure: Plugin = {
  name: 'no-azure',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@azure\// }, (args) => ({
      errors: [{ text: `${args.path} imported from ${args.importer}: Azure code must not reach the AWS bundle` }],
    }));
    // The Container Apps usage source is Azure's: a config that names one is told where it runs.
    pluginBuild.onResolve({ filter: /(^|[/\\])container-apps\.js$/ }, (args) => ({
      path: args.path,
      namespace: 'container-apps-stub',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'container-apps-stub' }, () => ({
      contents:
        'export function containerAppsSource() { throw new Error("The AWS bundle has no Container Apps usage ' +
        'source: read Container Apps from the Azure Functions app or the CLI"); }',
      loader: 'js',
    }));
    pluginBuild.onResolve({ filter: /[/\\]acr[/\\]index\.js$/ }, (args) => ({
      path: args.path,
      namespace: 'acr-stub',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'acr-stub' }, () => ({
      contents:
        'export function createAcrProvider() { throw new Error("The AWS bundle has no ACR provider: run regprune for ' +
        'ACR from the CLI or the Azure Functions app"); }',
      loader: 'js',
    }));
  },
};

/**
 * zod re-exports all 40-odd message locales as `z.locales` (≈ 260 KB, 40% of what the handler
 * loads at init); regprune uses none but the default English one, which zod imports on its own.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]node_modules[/\\]zod[/\\]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'english-only.js'), namespace: 'zod-locales' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

export interface BundleResult {
  readonly outdir: string;
  /** Handler → bytes of its .mjs. */
  readonly sizes: Record<string, number>;
  readonly metafile: Metafile;
}

/** Builds every handler into `outdir` and returns their sizes. */
export async function bundleAws(
  options: { outdir?: string; configFile?: string; minify?: boolean } = {},
): Promise<BundleResult> {
  const outdir = options.outdir ?? join(ROOT, 'dist', 'aws');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: Object.fromEntries(AWS_HANDLERS.map((name) => [name, join(ROOT, 'functions', 'aws', `${name}.ts`)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: options.minify ?? true,
    // Lazy imports (the ECR SDK behind createProvider) become chunks loaded on first use, not at init.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // Some dependencies are CommonJS and require() Node built-ins; ESM output needs a require.
    banner: {
      js:
        "import { createRequire as __regpruneCreateRequire } from 'node:module'; const require = " +
        '__regpruneCreateRequire(import.meta.url);',
    },
    plugins: [noAzure, zodEnglishOnly],
  });
  if (options.configFile) await copyFile(options.configFile, join(outdir, 'regprune.yaml'));
  const sizes: Record<string, number> = {};
  for (const name of AWS_HANDLERS) sizes[name] = (await stat(join(outdir, `${name}.mjs`))).size;
  return { outdir, sizes, metafile: result.metafile };
}

async function main(): Promise<void> {
  const configIndex = process.argv.indexOf('--config');
  const configFile = configIndex > 0 ? process.argv[configIndex + 1] : undefined;
  const { outdir, sizes } = await bundleAws({ configFile });
  for (const [name, bytes] of Object.entries(sizes)) {
    process.stderr.write(`${join(outdir, `${name}.mjs`)}  ${(bytes / 1024).toFixed(0)} KiB\n`);
  }
  if (configFile) process.stderr.write(`${join(outdir, 'regprune.yaml')}  (from ${basename(configFile)})\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bundle-aws: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
