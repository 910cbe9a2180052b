/**
 * Builds the Azure Functions package: one esbuild bundle of functions/azure (ESM, node22) with only
 * the ACR and OCI providers (ECR is stubbed out), plus host.json and a package.json naming the
 * entry point. Code splitting keeps the entry small: the host loads only index.mjs (and
 * @azure/functions in it) when it starts and indexes the functions; the pipeline and the SDKs are
 * chunks loaded on the first invocation.
 *
 *   npm run bundle:azure          → dist/azure/{index.mjs, chunks/*.mjs, host.json, package.json}
 *
 * Then zip dist/azure and publish it (docs/azure.md).
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const AZURE_BUNDLE_DIR = join(root, 'dist', 'azure');

/** The ECS and Lambda usage sources (and their AWS SDKs) have no place in the Azure package either. */
const withoutAwsUsage: Plugin = {
  name: 'without-aws-usage',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /(^|[/\\])inuse[/\\](ecs|lambda)\.js$|^\.[/\\](ecs|lambda)\.js$/ }, (args) => ({
      path: args.path,
      namespace: 'without-aws-usage',
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'without-aws-usage' }, () => ({
      contents:
        'function none() { throw new Error("This Azure Functions package has no ECS or Lambda usage source: read ' +
        'them with the AWS Lambda package or the CLI."); }\nexport { none as ecsSource, none as lambdaSource };',
      loader: 'js',
    }));
  },
};

/** The ECR adapter (and the AWS SDK behind it) has no place in the Azure package. */
const withoutEcr: Plugin = {
  name: 'without-ecr',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/ecr\/index\.js$/ }, (args) => ({ path: args.path, namespace: 'without-ecr' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'without-ecr' }, () => ({
      contents:
        'export async function createEcrProvider() { throw new Error("This Azure Functions package has no ECR ' +
        'provider: prune ECR with the AWS Lambda package or the CLI."); }',
      loader: 'js',
    }));
  },
};

/** Builds the package into `outdir` (default dist/azure); returns the entry's size and esbuild's metafile. */
export async function bundleAzure(
  options: {
    minify?: boolean;
    outdir?: string /** More entries built alongside, e.g. a test's view into the package. */;
    extraEntries?: Record<string, string>;
  } = {},
): Promise<{ bytes: number; dir: string; entry: string; metafile: Metafile }> {
  const outdir = options.outdir ?? AZURE_BUNDLE_DIR;
  const entry = join(outdir, 'index.mjs');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const { metafile } = await build({
    entryPoints: { index: join(root, 'functions', 'azure', 'index.ts'), ...options.extraEntries },
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    metafile: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [withoutEcr, withoutAwsUsage],
    // Provided by the Functions Node worker at run time, not an npm package.
    external: ['@azure/functions-core'],
    // CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
    banner: {
      js:
        "import { createRequire as __regpruneCreateRequire } from 'node:module'; const require = " +
        '__regpruneCreateRequire(import.meta.url);',
    },
  });
  await copyFile(join(root, 'host.json'), join(outdir, 'host.json'));
  const packageJson = {
    name: 'regprune-azure',
    private: true,
    type: 'module',
    main: 'index.mjs',
    engines: { node: '>=22' },
  };
  await writeFile(join(outdir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  return { bytes: (await stat(entry)).size, dir: outdir, entry, metafile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { bytes, dir } = await bundleAzure();
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const sizes = await Promise.all(files.map(async (file) => (await stat(join(file.parentPath, file.name))).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  process.stdout.write(
    `regprune Azure package: ${dir} (index.mjs ${(bytes / 1024).toFixed(0)} KiB; ${files.length} files, ` +
      `${total} bytes = ${(total / 1024 / 1024).toFixed(2)} MiB)\n`,
  );
}
