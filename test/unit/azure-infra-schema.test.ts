/**
 * infra/azure checked offline against the Bicep compiler's own type definitions (pinned extract of
 * Azure/bicep-types-az, scripts/extract-azure-types.mjs): every resource type and api version exists,
 * every property set is declared and writable. Role definition GUIDs are pinned to their names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { at, type BicepDeclaration, type BicepValue, parseBicep } from '../support/bicep.js';

interface Property {
  flags: number;
  props?: Record<string, Property>;
}
const READ_ONLY = 2;
const REQUIRED = 1;
const types = JSON.parse(readFileSync('test/fixtures/azure-types.json', 'utf8')) as {
  resources: Record<string, Record<string, Property>>;
};
const FILES = [
  'infra/azure/main.bicep',
  'infra/azure/modules/registry-roles.bicep',
  'infra/azure/modules/app-roles.bicep',
  'infra/azure/modules/queue.bicep',
];
// Bicep's own resource keywords, not ARM properties.
const BICEP_KEYWORDS = new Set(['parent', 'scope', 'dependsOn']);

// Azure built-in roles (learn.microsoft.com/azure/role-based-access-control/built-in-roles): the
// same GUID in every tenant.
const ROLE_NAMES: Record<string, string> = {
  '7f951dda-4ed3-4680-a7ca-43fe172d538d': 'AcrPull',
  'c2f4ef07-c644-48eb-af81-4b1b4947fb11': 'AcrDelete',
  '2efddaa5-3f1f-4df3-97df-af3f13818f4c': 'Container Registry Repository Contributor',
  'bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7': 'Container Registry Repository Catalog Lister',
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  '19e7f393-937e-4f77-808e-94535e297925': 'Storage Queue Data Reader',
  '8a0f0c08-91a1-4084-bc3d-661d67233fed': 'Storage Queue Data Message Processor',
  'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a': 'Storage Queue Data Message Sender',
};

function isExpr(value: BicepValue | undefined): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && ('expr' in value || 'for' in value);
}

/** Properties `value` sets that `schema` does not declare, or declares read-only, as "path: problem". */
function problems(value: BicepValue | undefined, schema: Record<string, Property> | undefined, path: string): string[] {
  if (value === undefined || value === null || isExpr(value) || typeof value !== 'object' || !schema) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => problems(item, schema, `${path}[${i}]`));
  return Object.entries(value).flatMap(([key, child]) => {
    const property = schema[key] ?? schema['*'];
    if (!property) return [`${path}.${key}: not a property of the published type`];
    if (property.flags & READ_ONLY && !(property.flags & REQUIRED)) return [`${path}.${key}: read-only`];
    return problems(child, property.props, `${path}.${key}`);
  });
}

function resources(): [string, BicepDeclaration][] {
  return FILES.flatMap((file) =>
    parseBicep(readFileSync(file, 'utf8'))
      .filter((d) => d.kind === 'resource')
      .map((d): [string, BicepDeclaration] => [file, d]),
  );
}

/**
 * The published type of a declaration: `type#name` for a resource whose shape depends on its name
 * (sites/config: authsettingsV2, appsettings, …), else the type itself.
 */
function publishedType(declaration: BicepDeclaration): Record<string, Property> | undefined {
  const value = body(declaration);
  const name = isExpr(value) ? undefined : at(value, 'name');
  const variant = typeof name === 'string' ? types.resources[`${declaration.type}#${name}`] : undefined;
  return variant ?? types.resources[declaration.type!];
}

function body(declaration: BicepDeclaration): BicepValue | undefined {
  const value = declaration.value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'for' in value) return value.body;
  return value;
}

describe('infra/azure against the published Azure resource types', () => {
  it('declares only resource types and api versions Azure publishes', () => {
    const unknown = resources()
      .filter(([, d]) => !publishedType(d))
      .map(([file, d]) => `${file}: ${d.type}`);

    expect(unknown).toEqual([]);
  });

  it('sets only declared, writable properties', () => {
    const found = resources()
      .filter(([, d]) => !d.existing)
      .flatMap(([file, d]) => {
        const value = body(d) as Record<string, BicepValue>;
        const settable = Object.fromEntries(Object.entries(value).filter(([key]) => !BICEP_KEYWORDS.has(key)));
        return problems(settable, publishedType(d), `${file}:${d.name}`);
      });

    expect(found).toEqual([]);
  });

  it('catches a misspelt or read-only property', () => {
    const site = types.resources['Microsoft.Web/sites@2024-04-01'];

    expect(problems({ properties: { httpsOnly: true, ftpState: 'Disabled', state: 'x' } }, site, 'site')).toEqual([
      'site.properties.ftpState: not a property of the published type',
      'site.properties.state: read-only',
    ]);
  });

  it('checks App Service authentication against the authsettingsV2 shape, not another sites/config', () => {
    const entraAuth = resources().find(([, d]) => d.type === 'Microsoft.Web/sites/config@2024-04-01');
    const authSettings = publishedType(entraAuth![1]);

    expect(authSettings).toBe(types.resources['Microsoft.Web/sites/config@2024-04-01#authsettingsV2']);
    expect(problems({ properties: { globalValidation: { requireAuthentication: true } } }, authSettings, 'a')).toEqual(
      [],
    );
    expect(
      problems({ properties: { appSettings: {}, globalValidation: { requireAuth: true } } }, authSettings, 'a'),
    ).toEqual([
      'a.properties.appSettings: not a property of the published type',
      'a.properties.globalValidation.requireAuth: not a property of the published type',
    ]);
  });

  it('uses only role definition GUIDs pinned to their built-in role names', () => {
    const guids = FILES.flatMap((file) => [
      ...readFileSync(file, 'utf8').matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g),
    ]).map((m) => m[1]!);

    expect(guids.length).toBeGreaterThan(0);
    for (const guid of guids) expect(ROLE_NAMES[guid], guid).toBeDefined();
    expect(new Set(guids)).toEqual(new Set(Object.keys(ROLE_NAMES)));
  });
});
