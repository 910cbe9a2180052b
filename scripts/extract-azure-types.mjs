#!/usr/bin/env node
// Pins the property trees of the Azure resource types infra/azure declares, for
// test/unit/azure-infra-schema.test.ts, from the Bicep compiler's own type definitions
// (github.com/Azure/bicep-types-az, generated/**/types.json, MIT; generated from the
// azure-rest-api-specs). How it was produced:
//   git clone https://github.com/Azure/bicep-types-az && cd bicep-types-az && git rev-parse HEAD
//   node scripts/extract-azure-types.mjs <that checkout> > test/fixtures/azure-types.json && npm run format
// Each property keeps its flags (1 required, 2 read-only, 4 write-only, 8 deploy-time constant).
import { execFileSync } from 'node:child_process';

// Resource type@api-version -> the types.json that declares it (paths as in bicep-types-az). A
// `#name` suffix picks one variant of a resource discriminated by its name (sites/config has one
// shape per name: authsettingsV2, appsettings, web, …); the test looks it up by type and name.
const FILES = {
  'Microsoft.Storage/storageAccounts@2023-05-01': 'storage/microsoft.storage/2023-05-01',
  'Microsoft.Storage/storageAccounts/blobServices@2023-05-01': 'storage/microsoft.storage/2023-05-01',
  'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01': 'storage/microsoft.storage/2023-05-01',
  'Microsoft.Storage/storageAccounts/queueServices@2023-05-01': 'storage/microsoft.storage/2023-05-01',
  'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01': 'storage/microsoft.storage/2023-05-01',
  'Microsoft.OperationalInsights/workspaces@2023-09-01': 'operationalinsights/microsoft.operationalinsights/2023-09-01',
  'Microsoft.Insights/components@2020-02-02': 'applicationinsights/microsoft.insights/2020-02-02',
  'Microsoft.Insights/scheduledQueryRules@2023-12-01': 'monitor_1/microsoft.insights/2023-12-01',
  'Microsoft.Web/serverfarms@2024-04-01': 'web/microsoft.web/2024-04-01',
  'Microsoft.Web/sites@2024-04-01': 'web/microsoft.web/2024-04-01',
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01': 'web/microsoft.web/2024-04-01',
  'Microsoft.Web/sites/config@2024-04-01#authsettingsV2': 'web/microsoft.web/2024-04-01',
  'Microsoft.Authorization/roleAssignments@2022-04-01': 'authorization/microsoft.authorization/2022-04-01',
  'Microsoft.ContainerRegistry/registries@2023-07-01': 'containerregistry_0/microsoft.containerregistry/2023-07-01',
};

const root = process.argv[2];
if (!root) throw new Error('usage: extract-azure-types.mjs <bicep-types-az checkout>');
const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();

/** The property tree under `ref`: objects as { name: { flags, props? } }, arrays by their item type. */
function tree(types, ref, seen) {
  const type = types[Number(ref.slice(2))];
  if (type.$type === 'ArrayType') return tree(types, type.itemType.$ref, seen);
  // A discriminated type (e.g. basicPublishingCredentialsPolicies: ftp | scm): the union of its variants.
  if (type.$type === 'DiscriminatedObjectType') {
    const variants = Object.values(type.elements).map((element) => tree(types, element.$ref, seen));
    return Object.assign(properties(types, type.baseProperties ?? {}, seen), ...variants);
  }
  if (type.$type !== 'ObjectType' || seen.has(ref)) return undefined;
  const out = properties(types, type.properties ?? {}, new Set(seen).add(ref));
  if (type.additionalProperties) out['*'] = { flags: 0 };
  return out;
}

function properties(types, declared, seen) {
  const out = {};
  for (const [name, property] of Object.entries(declared)) {
    const props = tree(types, property.type.$ref, seen);
    out[name] = props ? { flags: property.flags, props } : { flags: property.flags };
  }
  return out;
}

const out = { source: { repository: 'Azure/bicep-types-az', commit }, resources: {} };
for (const [resource, dir] of Object.entries(FILES)) {
  const git = (path) => execFileSync('git', ['-C', root, 'show', `HEAD:generated/${path}`], { maxBuffer: 1 << 28 });
  const types = JSON.parse(git(`${dir}/types.json`).toString('utf8'));
  const [name, variant] = resource.split('#');
  const found = types.find((t) => t.$type === 'ResourceType' && t.name === name);
  if (!found) throw new Error(`${name} is not in ${dir}/types.json`);
  const body = variant ? types[Number(found.body.$ref.slice(2))].elements?.[variant] : found.body;
  if (!body) throw new Error(`${name} has no variant named ${variant} in ${dir}/types.json`);
  out.resources[resource] = tree(types, body.$ref, new Set());
}
process.stdout.write(`${JSON.stringify(out)}\n`);
