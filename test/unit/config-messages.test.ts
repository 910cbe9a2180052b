/** Config errors in the house style (what is wrong, where, what to write instead), never zod's defaults. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues, parseConfigText } from '../../lib/config/load.js';
import { ConfigError } from '../../lib/errors.js';

function issuesOf(schema: z.ZodType, data: unknown): string[] {
  const result = schema.safeParse(data);
  if (result.success) throw new Error('expected a failure');
  return formatIssues(result.error.issues, data);
}

describe('config error messages', () => {
  it.each([
    [z.object({ name: z.string() }), { name: 5 }, 'name: expected a string (text), got the number 5; write it as text'],
    [
      z.object({ on: z.boolean() }),
      { on: 'yes' },
      'on: expected true or false, got the text "yes"; write true or false',
    ],
    [z.object({ list: z.array(z.string()) }), { list: 'a' }, 'list: expected a list, got the text "a"; write a list'],
    [z.object({ keep: z.number() }), { keep: '3' }, 'keep: expected a number, got the text "3"; write the number'],
  ])('words a wrong type with what was found and what to write (%#)', (schema, data, expected) => {
    expect(issuesOf(schema, data)[0]).toContain(expected);
  });

  it('words an empty string as empty, with what to do', () => {
    expect(issuesOf(z.object({ name: z.string().min(1) }), { name: '' })).toEqual([
      'name: is empty; write a value, or remove the key to use the default',
    ]);
  });

  it('never shows zod default wording for a wrong type in a real config', () => {
    const text =
      'version: 1\ndryRun: 1\nregistries:\n  - name: a\n    provider: oci\n    endpoint: http://x\n' +
      '    repositories: "app/*"\n';

    const error = (() => {
      try {
        parseConfigText(text, 'c.yaml');
      } catch (caught) {
        return caught;
      }
      return null;
    })();

    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).not.toMatch(/received|Too small|Invalid input/);
    expect((error as ConfigError).issues).toEqual([
      'dryRun: expected true or false, got the number 1; write true or false without quotes',
      'registries[0].repositories: expected a list, got the text "app/*"; ' +
        'write a list, one "- item" per line, or [a, b]',
    ]);
  });
});
