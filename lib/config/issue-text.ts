/**
 * House-style wording of the zod issues people meet most: a wrong type and an empty or too small
 * value. Says what is wrong and what to write instead, never zod's own `expected string, received
 * number` (issue 14).
 */
import type { z } from 'zod';

const ARTICLE: Record<string, string> = {
  string: 'a string (text)',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value lines)',
};

const EXAMPLE: Record<string, string> = {
  string: 'write it as text, in quotes where YAML would read a number or true/false ("3d", "10")',
  number: 'write the number without quotes, e.g. 10',
  int: 'write a whole number without quotes, e.g. 10',
  boolean: 'write true or false without quotes',
  array: 'write a list, one "- item" per line, or [a, b]',
  object: 'write indented key: value lines',
};

/** What a YAML/JSON value is, in the words a config author uses. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the text "${value.length > 40 ? `${value.slice(0, 39)}…` : value}"`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

/** `expected a string (text), got the number 5; put the value in quotes, e.g. "prod"`; null when not a type issue. */
export function wrongTypeText(issue: z.core.$ZodIssue, value: unknown): string | null {
  // A message the schema words itself (`expected a number ≥ 0`) stays: only zod's default is replaced.
  if (issue.code !== 'invalid_type' || !issue.message.startsWith('Invalid input: expected ')) return null;
  const expected = ARTICLE[issue.expected];
  if (expected === undefined) return null;
  return `expected ${expected}, got ${describeValue(value)}; ${EXAMPLE[issue.expected]}`;
}

/** `is empty; write at least one character …`; null for other too_small issues than strings and lists. */
export function tooSmallText(issue: z.core.$ZodIssue): string | null {
  if (issue.code !== 'too_small' || !issue.message.startsWith('Too small:')) return null;
  const minimum = Number(issue.minimum);
  if (issue.origin === 'string') {
    return minimum <= 1
      ? 'is empty; write a value, or remove the key to use the default'
      : `is too short: write at least ${minimum} characters`;
  }
  if (issue.origin === 'array') {
    return minimum <= 1 ? 'is an empty list; give at least one item' : `needs at least ${minimum} items`;
  }
  return null;
}
