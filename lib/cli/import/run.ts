/** Runs `regprune import`: convert, validate with the config schema, print YAML, warn what is not exact. */
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../config/load.js';
import { ConfigError, describeError, UsageError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { flagWords } from '../one-off.js';
import { importAcrPurge } from './acr-purge.js';
import type { ImportInvocation } from './args.js';
import { importEcrLifecycle } from './ecr-lifecycle.js';
import { importYaml, type ImportResult } from './result.js';

async function convert(invocation: ImportInvocation): Promise<ImportResult> {
  const endpoint = invocation.endpoint !== undefined ? { endpoint: invocation.endpoint } : {};
  if (invocation.source === 'acr-purge') return importAcrPurge(invocation.input, endpoint);
  const text = await readFile(invocation.input, 'utf8').catch((error: unknown) => {
    throw new UsageError(`import ecr-lifecycle: cannot read ${invocation.input}: ${describeError(error)}`);
  });
  return importEcrLifecycle(text, {
    file: invocation.input,
    ...endpoint,
    ...(invocation.repository !== undefined ? { repository: invocation.repository } : {}),
  });
}

/** Prints the imported config on stdout (exit 0), a warning per inexact rule on stderr. */
export async function runImport(invocation: ImportInvocation, io: CliIo): Promise<number> {
  const result = await convert(invocation);
  try {
    parseConfig(result.data, `imported ${invocation.source}`);
  } catch (error) {
    // The flags themselves (an endpoint) can make the config invalid: say which.
    if (error instanceof ConfigError) {
      const message = invocation.source === 'acr-purge' ? flagWords(error.message) : error.message;
      throw new UsageError(`import ${invocation.source}: ${message}`);
    }
    throw error;
  }
  const header =
    `regprune config imported from ${invocation.source}; ` + 'check it with regprune validate and regprune plan';
  io.stdout.write(importYaml(result, header));
  const inexact = result.notes.filter((note) => note.inexact);
  for (const note of inexact) io.stderr.write(`regprune: import ${invocation.source}: not exact: ${note.text}\n`);
  return 0;
}
