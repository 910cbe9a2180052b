/**
 * The small Bicep reader the infra tests use (test/support/bicep.ts): no maintained Bicep parser
 * exists on npm (the compiler ships on NuGet as Azure.Bicep.CommandLine), so this one is held to
 * what it claims: literals read as values, expressions kept as text, loops and conditions kept,
 * anything unsupported refused loudly.
 */
import { describe, expect, it } from 'vitest';
import { at, parseBicep } from '../support/bicep.js';

describe('test/support/bicep.ts', () => {
  it('reads object and array literals as values and expressions as their text', () => {
    const [resource] = parseBicep(
      "resource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n" +
        "  name: toLower('a${b}')\n  properties: {\n    allow: false\n    tls: 'TLS1_2'\n    n: 3\n" +
        '    list: [\n      1\n      two\n    ]\n  }\n}\n',
    );

    expect(resource).toMatchObject({
      kind: 'resource',
      name: 'st',
      type: 'Microsoft.Storage/storageAccounts@2023-05-01',
    });
    expect(at(resource!.value, 'name')).toEqual({ expr: "toLower('a${b}')" });
    expect(at(resource!.value, 'properties')).toEqual({
      allow: false,
      tls: 'TLS1_2',
      n: 3,
      list: [1, { expr: 'two' }],
    });
  });

  it('keeps escaped quotes and interpolations inside strings', () => {
    const [declaration] = parseBicep("var c = '!(ActionMatches{\\'${a}\\'})'\n");

    expect(declaration!.value).toBe("!(ActionMatches{'${a}'})");
  });

  it('keeps a resource loop, a condition, existing and decorators', () => {
    const declarations = parseBicep(
      "@description('d')\nparam mode string\n" +
        "resource r 'T@1' existing = {\n  name: 'x'\n}\n" +
        "resource a 'T@1' = if (mode == 'abac') {\n  name: 'y'\n}\n" +
        "resource l 'T@1' = [for id in ids: {\n  name: id\n}]\n",
    );

    expect(declarations.map((d) => [d.name, d.existing, d.condition])).toEqual([
      ['mode', undefined, undefined],
      ['r', true, undefined],
      ['a', false, "mode == 'abac'"],
      ['l', false, undefined],
    ]);
    expect(declarations[0]!.decorators).toEqual({ description: "'d'" });
    expect(declarations[3]!.value).toEqual({ for: { item: 'id', source: 'ids' }, body: { name: { expr: 'id' } } });
  });

  it('refuses what it cannot read instead of reading it wrong', () => {
    expect(() => parseBicep("var s = '''\nx\n'''\n")).toThrow(/multi-line strings are not supported/);
    expect(() => parseBicep("import 'x.bicep'\n")).toThrow(/not supported/);
    expect(() => parseBicep("var s = 'open\n")).toThrow(/unterminated string/);
  });
});
