/**
 * The `regprune` command: parse, call, format. Exit 0 done, 1 run-time failure, 2 bad usage or
 * config (and then no registry was called). Errors are one line on stderr, never a stack trace.
 */
import { loadConfigFile } from '../config/load.js';
import { configJsonSchema } from '../config/schema.js';
import { ConfigError, describeError, RegpruneError, UsageError } from '../errors.js';
import { parseInvocation } from './args.js';
import { helpText } from './help.js';
import type { CliIo } from './io.js';
import { packageVersion } from './version.js';

export { processIo, type CliIo } from './io.js';

/** Runs the command line `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const invocation = parseInvocation(argv);
    switch (invocation.kind) {
      case 'help':
        io.stdout.write(helpText(invocation.command));
        return 0;
      case 'version':
        io.stdout.write(`${packageVersion()}\n`);
        return 0;
      case 'schema':
        io.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
        return 0;
      case 'validate': {
        const config = await loadConfigFile(invocation.configPath);
        const count = config.registries.length;
        io.stdout.write(`ok: ${invocation.configPath} (${count} ${count === 1 ? 'registry' : 'registries'})\n`);
        return 0;
      }
      case 'import': {
        const { runImport } = await import('./import/run.js');
        return await runImport(invocation, io);
      }
      case 'run': {
        // Loaded on demand: help, schema, validate and usage errors need none of the pipeline.
        const { runCommand } = await import('./run-command.js');
        return await runCommand(invocation, io);
      }
    }
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  const line = (text: string) => io.stderr.write(`regprune: ${text.replace(/\s*\n\s*/g, ' ')}\n`);
  if (error instanceof ConfigError && error.issues.length > 1 && error.message.endsWith(error.issues.join('; '))) {
    // One line per problem, as `validate --help` says: a long config's problems stay readable.
    line(`${error.message.slice(0, -error.issues.join('; ').length).trimEnd()} (${error.issues.length} problems)`);
    for (const issue of error.issues) line(`  ${issue}`);
    return 2;
  }
  if (error instanceof ConfigError || error instanceof UsageError) {
    line(error.message);
    return 2;
  }
  if (error instanceof RegpruneError) {
    line(error.message);
    return 1;
  }
  line(`unexpected error: ${describeError(error)}`);
  return 1;
}
