/** `regprune import ecr-lifecycle FILE` / `regprune import acr-purge "COMMAND LINE"`: parsing. */
import { UsageError } from '../../errors.js';

export const IMPORT_SOURCES = ['ecr-lifecycle', 'acr-purge'] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

export const IMPORT_OPTIONS = {
  endpoint: { type: 'string' },
  repository: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ImportInvocation {
  readonly kind: 'import';
  readonly source: ImportSource;
  /** The policy file (ecr-lifecycle) or the command line (acr-purge). */
  readonly input: string;
  readonly endpoint?: string;
  readonly repository?: string;
}

/** The import invocation from its positionals and flags; a UsageError says what to write. */
export function parseImport(
  positionals: readonly string[],
  values: { endpoint?: string | undefined; repository?: string | undefined },
): ImportInvocation {
  const [source, input, ...extra] = positionals;
  if (source === undefined || !(IMPORT_SOURCES as readonly string[]).includes(source)) {
    throw new UsageError(
      `import: ${source === undefined ? 'say what to import' : `unknown source "${source}"`}; write ` +
        `regprune import ecr-lifecycle FILE or regprune import acr-purge "acr purge --filter 'repo:.*' --ago 30d"`,
    );
  }
  const what = source === 'ecr-lifecycle' ? 'the lifecycle policy JSON file' : 'the acr purge command line, quoted';
  if (input === undefined || input === '') throw new UsageError(`import ${source}: give ${what}`);
  if (extra.length > 0) {
    throw new UsageError(
      `import ${source}: unexpected argument ${JSON.stringify(extra[0])}; give ${what} as one argument` +
        (source === 'acr-purge' ? ' (in quotes)' : ''),
    );
  }
  if (values.repository !== undefined && source !== 'ecr-lifecycle') {
    throw new UsageError(
      'import acr-purge: --repository is for ecr-lifecycle; the --filter flags name the repositories',
    );
  }
  return {
    kind: 'import',
    source: source as ImportSource,
    input,
    ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}),
    ...(values.repository !== undefined ? { repository: values.repository } : {}),
  };
}
