/** Command-line parsing: strict, with one-line reasons; a bad flag is a UsageError (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { parseReportFormat, type ReportFormat } from '../render/output.js';
import { COMMANDS, type Command } from './help.js';
import type { Verbosity } from './progress.js';
import type { Config } from '../config/schema.js';
import { ONE_OFF_OPTIONS, ONE_OFF_SOURCE, oneOffConfig, oneOffFlagsGiven, wholeNumberFlag } from './one-off.js';
import { IMPORT_OPTIONS, parseImport, type ImportInvocation } from './import/args.js';
import { parseWhatIf } from './what-if-flag.js';

export type Invocation =
  | { readonly kind: 'help'; readonly command?: Command }
  | { readonly kind: 'version' }
  | { readonly kind: 'schema' }
  | { readonly kind: 'validate'; readonly configPath: string }
  | ImportInvocation
  | {
      readonly kind: 'run';
      readonly command: 'plan' | 'prune' | 'report';
      readonly configPath: string;
      /** Undefined: the config decides. */
      readonly dryRun: boolean | undefined;
      readonly json: boolean;
      readonly reportPath: string | undefined;
      /** `--format`; undefined: by the report file's extension (or Markdown on stdout for `report`). */
      readonly format?: ReportFormat | undefined;
      /** `--history FILE`: JSON Lines of run summaries. */
      readonly historyPath?: string | undefined;
      /** `--state DIR`; undefined: `resolveStateDir` (lib/state/local.ts) picks the default. */
      readonly statePath?: string | undefined;
      /** `--no-cache`: read every manifest from the registry, not the inventory cache in the state store. */
      readonly noCache?: boolean;
      readonly repository: string | undefined;
      readonly registries: string[] | undefined;
      /** `--quiet` / `--verbose`; absent = normal (lib/cli/progress.ts). */
      readonly verbosity?: Verbosity;
      /** `--all`: the plan (and prune's list of deletions) unfolded. */
      readonly all?: boolean;
      /** A one-off run's in-memory config (`--registry-url`, `--filter`); `configPath` then names the flags. */
      readonly config?: Config;
      /** `--max-deletions N`: refuse a real run that would delete more (docs/cli.md, "Safety caps"). */
      readonly maxDeletions?: number;
      /** `--yes`: do not ask before a real run in a terminal. */
      readonly yes?: boolean;
      /** `report --what-if 1,3,5`: the keep values to compare (docs/report.md, "What-if"). */
      readonly whatIf?: readonly number[];
    };

const CONFIG = { type: 'string', short: 'c' } as const;
const HELP = { type: 'boolean', short: 'h' } as const;
const SCOPE = { repository: { type: 'string' }, registry: { type: 'string', multiple: true } } as const;
const OUTPUT = { quiet: { type: 'boolean', short: 'q' }, verbose: { type: 'boolean', short: 'v' } } as const;

const OPTIONS = {
  plan: {
    config: CONFIG,
    json: { type: 'boolean' },
    state: { type: 'string' },
    'no-cache': { type: 'boolean' },
    help: HELP,
    ...SCOPE,
    ...OUTPUT,
    all: { type: 'boolean' },
    ...ONE_OFF_OPTIONS,
  },
  prune: {
    ...ONE_OFF_OPTIONS,
    'max-deletions': { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    config: CONFIG,
    'dry-run': { type: 'boolean' },
    'no-dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    report: { type: 'string' },
    format: { type: 'string' },
    history: { type: 'string' },
    state: { type: 'string' },
    'no-cache': { type: 'boolean' },
    help: HELP,
    ...SCOPE,
    ...OUTPUT,
    all: { type: 'boolean' },
  },
  report: {
    'what-if': { type: 'string' },
    config: CONFIG,
    json: { type: 'boolean' },
    report: { type: 'string' },
    format: { type: 'string' },
    history: { type: 'string' },
    state: { type: 'string' },
    'no-cache': { type: 'boolean' },
    help: HELP,
    ...SCOPE,
    ...OUTPUT,
  },
  validate: { config: CONFIG, help: HELP },
  schema: { help: HELP },
  import: IMPORT_OPTIONS,
} as const satisfies Record<Command, ParseArgsConfig['options']>;

function isCommand(text: string): text is Command {
  return (COMMANDS as readonly string[]).includes(text);
}

/** Node's parseArgs errors, said in one line with the command and where to look. */
function usageFromParseError(error: unknown, command: Command): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^']*)'/.exec(message)?.[1];
  const hint = `see regprune ${command} --help`;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`${command}: unknown option ${option ?? ''}; ${hint}`.replace(' ;', ';'));
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(
        `${command}: ${option ? `option ${option}` : 'an option'} is missing its value or takes none; ${hint}`,
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`${command}: unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ''}; ${hint}`);
    default:
      return new UsageError(`${command}: ${message.split('\n')[0]}; ${hint}`);
  }
}

function parseCommand<C extends Command>(command: C, args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: OPTIONS[command], strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw usageFromParseError(error, command);
  }
}

function verbosityOf(command: Command, values: { quiet?: boolean; verbose?: boolean }): { verbosity?: Verbosity } {
  if (values.quiet && values.verbose) throw new UsageError(`${command}: --quiet and --verbose contradict each other`);
  return values.quiet ? { verbosity: 'quiet' } : values.verbose ? { verbosity: 'verbose' } : {};
}

/** For commands that take positional arguments (`import KIND SOURCE`). */
function parseWithPositionals<C extends Command>(command: C, args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: OPTIONS[command], strict: true, allowPositionals: true });
  } catch (error) {
    throw usageFromParseError(error, command);
  }
}

function requireConfig(command: Command, path: string | undefined): string {
  if (path === undefined || path === '')
    throw new UsageError(`${command}: --config FILE is required; see regprune ${command} --help`);
  return path;
}

/**
 * The config of a run: `--config FILE`, or the one-off flags' in-memory config (never both). A
 * one-off config is validated here, so bad flags fail before any registry call.
 */
function configOf(
  command: 'plan' | 'prune',
  values: { config?: string | undefined } & Parameters<typeof oneOffConfig>[1],
): { configPath: string; config?: Config } {
  const oneOff = oneOffFlagsGiven(values);
  if (values.config !== undefined && oneOff.length > 0) {
    throw new UsageError(
      `${command}: --config and ${oneOff.join(', ')} contradict each other; give a config file, or the one-off ` +
        'flags without one',
    );
  }
  if (oneOff.length === 0) return { configPath: requireConfig(command, values.config) };
  return { configPath: ONE_OFF_SOURCE, config: oneOffConfig(command, values) };
}

/** What the user asked for. Throws UsageError for anything it cannot make sense of. */
export function parseInvocation(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { kind: 'help' };
  if (first === '--version') return { kind: 'version' };
  if (!isCommand(first)) {
    const what = first.startsWith('-') ? `unknown option ${first}` : `unknown command "${first}"`;
    throw new UsageError(`${what}; expected one of ${COMMANDS.join(', ')} (see regprune --help)`);
  }
  switch (first) {
    case 'schema': {
      const values = parseCommand('schema', rest);
      return values.help ? { kind: 'help', command: 'schema' } : { kind: 'schema' };
    }
    case 'validate': {
      const values = parseCommand('validate', rest);
      if (values.help) return { kind: 'help', command: 'validate' };
      return { kind: 'validate', configPath: requireConfig('validate', values.config) };
    }
    case 'plan': {
      const values = parseCommand('plan', rest);
      if (values.help) return { kind: 'help', command: 'plan' };
      return {
        kind: 'run',
        command: 'plan',
        ...configOf('plan', values),
        dryRun: true,
        json: values.json ?? false,
        reportPath: undefined,
        statePath: values.state,
        ...(values['no-cache'] ? { noCache: true } : {}),
        repository: values.repository,
        registries: values.registry,
        ...verbosityOf('plan', values),
        ...(values.all ? { all: true } : {}),
      };
    }
    case 'prune': {
      const values = parseCommand('prune', rest);
      if (values.help) return { kind: 'help', command: 'prune' };
      if (values['dry-run'] && values['no-dry-run']) {
        throw new UsageError('prune: --dry-run and --no-dry-run contradict each other; give one');
      }
      if (values.format !== undefined && values.report === undefined) {
        throw new UsageError(
          'prune: --format is the format of the --report file; add --report FILE (stdout stays the summary, or JSON ' +
            'with --json)',
        );
      }
      const maxDeletions = values['max-deletions'];
      return {
        kind: 'run',
        command: 'prune',
        ...configOf('prune', values),
        ...(maxDeletions !== undefined
          ? { maxDeletions: wholeNumberFlag('prune', '--max-deletions', maxDeletions) }
          : {}),
        ...(values.yes ? { yes: true } : {}),
        dryRun: values['dry-run'] ? true : values['no-dry-run'] ? false : undefined,
        json: values.json ?? false,
        reportPath: values.report,
        format: parseReportFormat(values.format),
        historyPath: values.history,
        statePath: values.state,
        ...(values['no-cache'] ? { noCache: true } : {}),
        repository: values.repository,
        registries: values.registry,
        ...verbosityOf('prune', values),
        ...(values.all ? { all: true } : {}),
      };
    }
    case 'import': {
      const { values, positionals } = parseWithPositionals('import', rest);
      if (values.help) return { kind: 'help', command: 'import' };
      return parseImport(positionals, values);
    }
    case 'report': {
      const values = parseCommand('report', rest);
      if (values.help) return { kind: 'help', command: 'report' };
      const format = parseReportFormat(values.format);
      if (values.json && format !== undefined && format !== 'json') {
        throw new UsageError(`report: --json and --format ${format} contradict each other; give one`);
      }
      return {
        kind: 'run',
        command: 'report',
        configPath: requireConfig('report', values.config),
        dryRun: true,
        json: false,
        reportPath: values.report,
        format: values.json ? 'json' : format,
        ...(values['what-if'] !== undefined ? { whatIf: parseWhatIf(values['what-if']) } : {}),
        historyPath: values.history,
        statePath: values.state,
        ...(values['no-cache'] ? { noCache: true } : {}),
        repository: values.repository,
        registries: values.registry,
        ...verbosityOf('report', values),
      };
    }
  }
}
