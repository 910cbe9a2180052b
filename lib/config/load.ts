/** Reads, parses and validates a config: from a file, from text, or from REGPRUNE_CONFIG. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, describeError } from '../errors.js';
import { tooSmallText, wrongTypeText } from './issue-text.js';
import { ConfigSchema, type Config } from './schema.js';

/** `registries[0].repositories[1].keep` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** The value at `path` in `data`, or undefined. */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** True when `data` has a value at `path` (zod issues carry no input unless asked to). */
function isPresent(data: unknown, path: readonly PropertyKey[]): boolean {
  return valueAt(data, path) !== undefined;
}

/** One line per zod issue: `path: what is expected`. Pass the parsed `data` to tell missing values from wrong ones. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], data?: unknown): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
      return (
        `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; ` +
        `remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`
      );
    }
    if (issue.code === 'invalid_type') {
      const expected = issue.message.replace(/^Invalid input: /, '');
      const missing = data === undefined ? issue.input === undefined : !isPresent(data, issue.path);
      const wrong = missing ? null : wrongTypeText(issue, data === undefined ? issue.input : valueAt(data, issue.path));
      return missing
        ? `${formatPath(issue.path)}: is required (${expected})`
        : `${formatPath(issue.path)}: ${wrong ?? expected}`;
    }
    return `${formatPath(issue.path)}: ${tooSmallText(issue) ?? issue.message}`;
  });
}

/** Validates already-parsed data (JSON, YAML, an HTTP body's config) against the schema. */
export function parseConfig(data: unknown, source = 'config'): Config {
  const result = ConfigSchema.safeParse(data);
  if (result.success) return result.data;
  const issues = formatIssues(result.error.issues, data);
  throw new ConfigError(`${source} is invalid: ${issues.join('; ')}`, issues, { cause: result.error });
}

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseConfigText(text: string, source = 'config'): Config {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const detail = error instanceof YAMLParseError ? yamlErrorLine(error, text) : String(error);
    throw new ConfigError(`${source} is not valid YAML or JSON: ${detail}`, [], { cause: error });
  }
  if (data === null || data === undefined) {
    throw new ConfigError(`${source} is empty; see \`regprune schema\` for the format`);
  }
  return parseConfig(data, source);
}

/** Reads and validates a config file. */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory; give the config file in it'
            : describeError(error);
    throw new ConfigError(`cannot read config file ${path}: ${why}`, [], { cause: error });
  }
  return parseConfigText(text, path);
}

/**
 * The config a function app runs with: REGPRUNE_CONFIG holds either the YAML/JSON itself or the
 * path of a file (bundled with the function).
 */
export async function loadConfigFromSetting(value: string | undefined, fallbackPath?: string): Promise<Config> {
  const setting = value?.trim();
  if (!setting) {
    if (fallbackPath) return loadConfigFile(fallbackPath);
    throw new ConfigError('REGPRUNE_CONFIG is not set: set it to the config YAML/JSON or to the path of a config file');
  }
  const looksInline = setting.includes('\n') || setting.startsWith('{') || /^version\s*:/.test(setting);
  return looksInline ? parseConfigText(setting, 'REGPRUNE_CONFIG') : loadConfigFile(setting);
}

/** The first line of a YAML error, with the offending line of the file instead of a dangling colon. */
function yamlErrorLine(error: YAMLParseError, text: string): string {
  const first = (error.message.split('\n')[0] ?? '').replace(/:\s*$/, '');
  const line = error.linePos?.[0]?.line;
  const source = line === undefined ? undefined : text.split('\n')[line - 1]?.trim();
  return source ? `${first} (\`${source}\`)` : first;
}
