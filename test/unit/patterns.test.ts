import { describe, expect, it } from 'vitest';
import { compilePattern, compileRequestPattern, MAX_REQUEST_PATTERN_LENGTH } from '../../lib/config/pattern.js';
import type { Config } from '../../lib/config/schema.js';
import { UsageError } from '../../lib/errors.js';
import { scopeRun } from '../../lib/run/request.js';

const compiled = (source: string) => {
  const result = compilePattern(source);
  if (!result.ok) throw new Error(result.error);
  return result.pattern;
};

describe('patterns never backtrack without bound', () => {
  // Each of these takes longer than the test timeout on a backtracking engine (2^40 or n^7 steps):
  // the test fails by timing out if they ever run on one again.
  it('runs a nested-quantifier pinned regex over thousands of tags in linear time', () => {
    const pinned = compiled('/^(v?[0-9]+\\.?)+-release$/');
    const tags = Array.from({ length: 3000 }, (_, index) => `${'1'.repeat(40)}${index}x`);

    const matched = tags.filter((tag) => pinned.test(tag));

    expect(matched).toEqual([]);
    expect(pinned.test('v1.2.3-release')).toBe(true);
  });

  it('runs a glob with many wildcards over long names in linear time', () => {
    const glob = compiled('*a*a*a*a*a*a*b');

    expect(glob.test('a'.repeat(200))).toBe(false);
    expect(glob.test(`${'a'.repeat(200)}b`)).toBe(true);
    expect(glob.test(`${'a'.repeat(6)}/b`)).toBe(false);
  });

  it.each([
    ['/(a)\\1/', 'backreference'],
    ['/^(?=v)v1$/', 'lookahead'],
    ['/(?<!x)y/', 'lookbehind'],
  ])('refuses %s (a %s) with the reason and what to do', (source) => {
    const result = compilePattern(source);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/not supported by the linear-time engine .*rewrite it without them/);
  });
});

describe('patterns from a request body or schedule input', () => {
  it('accepts a glob', () => {
    const result = compileRequestPattern('team-a/**');

    expect(result.ok && result.pattern.test('team-a/web')).toBe(true);
  });

  it('refuses a /regex/, which belongs in the config', () => {
    const result = compileRequestPattern('/^([a-z0-9-]+)*\\/([a-z0-9-]+)*:$/');

    expect(result).toEqual({ ok: false, error: expect.stringMatching(/accepts globs only .*config file/) });
  });

  it('refuses a pattern longer than the cap', () => {
    const result = compileRequestPattern('a'.repeat(MAX_REQUEST_PATTERN_LENGTH + 1));

    expect(result).toEqual({ ok: false, error: expect.stringMatching(/at most 256 are accepted/) });
  });
});

describe('request bodies', () => {
  const config = {
    version: 1,
    dryRun: false,
    defaults: {},
    registries: [{ name: 'prod', provider: 'oci', endpoint: 'http://127.0.0.1:5000', repositories: [] }],
  } as unknown as Config;

  it.each([
    [null, 'null'],
    [42, 'a number'],
    ['prod', 'a string'],
    [[{ registry: 'prod' }], 'an array'],
  ])('refuses %j instead of running everything', (body, got) => {
    expect(() => scopeRun(config, body)).toThrow(UsageError);
    expect(() => scopeRun(config, body)).toThrow(
      `expected a JSON object such as {"registry": "name", "dryRun": true}, got ${got}`,
    );
  });

  it('runs as configured without a body', () => {
    expect(scopeRun(config, undefined)).toEqual({ dryRun: false });
  });

  it('refuses a regex repository filter', () => {
    expect(() => scopeRun(config, { repository: '/^a/' })).toThrow(/accepts globs only/);
  });
});
