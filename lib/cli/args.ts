/** Command-line parsing: strict, with one-line reasons; a bad flag is a UsageError (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { parseReportFormat, type ReportFormat } from '../render/output.js';
import { COMMANDS, type Command } from './help.js';

export type Invocation =
  | { readonly kind: 'help'; readonly command?: Command }
  | { readonly kind: 'version' }
  | { readonly kind: 'schema' }
  | { readonly kind: 'validate'; readonly configPath: string }
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
    };

const CONFIG = { type: 'string', short: 'c' } as const;
const HELP = { type: 'boolean', short: 'h' } as const;
const SCOPE = { repository: { type: 'string' }, registry: { type: 'string', multiple: true } } as const;

const OPTIONS = {
  plan: {
    config: CONFIG,
    json: { type: 'boolean' },
    state: { type: 'string' },
    'no-cache': { type: 'boolean' },
    help: HELP,
    ...SCOPE,
  },
  prune: {
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
  },
  report: {
    config: CONFIG,
    json: { type: 'boolean' },
    report: { type: 'string' },
    format: { type: 'string' },
    history: { type: 'string' },
    state: { type: 'string' },
    'no-cache': { type: 'boolean' },
    help: HELP,
    ...SCOPE,
  },
  validate: { config: CONFIG, help: HELP },
  schema: { help: HELP },
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

function requireConfig(command: Command, path: string | undefined): string {
  if (path === undefined || path === '')
    throw new UsageError(`${command}: --config FILE is required; see regprune ${command} --help`);
  return path;
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
        configPath: requireConfig('plan', values.config),
        dryRun: true,
        json: values.json ?? false,
        reportPath: undefined,
        statePath: values.state,
        ...(values['no-cache'] ? { noCache: true } : {}),
        repository: values.repository,
        registries: values.registry,
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
      return {
        kind: 'run',
        command: 'prune',
        configPath: requireConfig('prune', values.config),
        dryRun: values['dry-run'] ? true : values['no-dry-run'] ? false : undefined,
        json: values.json ?? false,
        reportPath: values.report,
        format: parseReportFormat(values.format),
        historyPath: values.history,
        statePath: values.state,
        ...(values['no-cache'] ? { noCache: true } : {}),
        repository: values.repository,
        registries: values.registry,
      };
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
        historyPath: values.history,
        statePath: values.state,
        ...(values['no-cache'] ? { noCache: true } : {}),
        repository: values.repository,
        registries: values.registry,
      };
    }
  }
}
