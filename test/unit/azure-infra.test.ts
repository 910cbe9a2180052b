/**
 * The Bicep deployment, read with a small parser (test/support/bicep.ts; no Bicep compiler is
 * reachable here): a wrong role, a missing setting or a wrong runtime fails a test.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { at, parseBicep, type BicepDeclaration, type BicepFor, type BicepValue } from '../support/bicep.js';

const main = parseBicep(readFileSync('infra/azure/main.bicep', 'utf8'));
const roles = parseBicep(readFileSync('infra/azure/modules/registry-roles.bicep', 'utf8'));
const appRoles = parseBicep(readFileSync('infra/azure/modules/app-roles.bicep', 'utf8'));

const ROLE = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrDelete: 'c2f4ef07-c644-48eb-af81-4b1b4947fb11',
  repositoryContributor: '2efddaa5-3f1f-4df3-97df-af3f13818f4c',
  repositoryCatalogLister: 'bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
};

function resourcesOf(declarations: BicepDeclaration[], type: string): BicepDeclaration[] {
  return declarations.filter((d) => d.kind === 'resource' && d.type?.split('@')[0] === type);
}

function only(declarations: BicepDeclaration[], type: string): BicepDeclaration {
  const found = resourcesOf(declarations, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}

function declared(declarations: BicepDeclaration[], kind: BicepDeclaration['kind'], name: string): BicepDeclaration {
  const found = declarations.find((d) => d.kind === kind && d.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** A `var` holding a plain string (role IDs): its value. */
function stringVar(declarations: BicepDeclaration[], name: string): string {
  const value = declared(declarations, 'var', name).value;
  if (typeof value !== 'string') throw new Error(`var ${name} is not a plain string`);
  return value;
}

function appSettings(): Map<string, BicepValue> {
  const settings = at(only(main, 'Microsoft.Web/sites').value, 'properties.siteConfig.appSettings') as {
    name: string;
    value: BicepValue;
  }[];
  return new Map(settings.map((s) => [s.name, s.value]));
}

describe('Bicep: function app', () => {
  it('runs on a Flex Consumption (FC1) Linux plan', () => {
    const plan = only(main, 'Microsoft.Web/serverfarms');

    expect(at(plan.value, 'sku')).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
    expect(at(plan.value, 'properties.reserved')).toBe(true);
  });

  it('is a Linux function app on Node 22 with a system-assigned identity', () => {
    const site = only(main, 'Microsoft.Web/sites');

    expect(at(site.value, 'kind')).toBe('functionapp,linux');
    expect(at(site.value, 'identity.type')).toBe('SystemAssigned');
    expect(at(site.value, 'properties.functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
    expect(at(site.value, 'properties.httpsOnly')).toBe(true);
  });

  it('deploys its package to a blob container of its storage account with its managed identity', () => {
    const site = only(main, 'Microsoft.Web/sites');
    const container = only(main, 'Microsoft.Storage/storageAccounts/blobServices/containers');

    expect(at(site.value, 'properties.functionAppConfig.deployment.storage.type')).toBe('blobContainer');
    expect(at(site.value, 'properties.functionAppConfig.deployment.storage.authentication.type')).toBe(
      'SystemAssignedIdentity',
    );
    expect(at(site.value, 'properties.functionAppConfig.deployment.storage.value')).toContain(
      '${deploymentContainerName}',
    );
    expect(at(container.value, 'name')).toEqual({ expr: 'deploymentContainerName' });
  });

  it('sets the schedule, config, identity-based storage and Application Insights settings', () => {
    const settings = appSettings();

    expect([...settings.keys()].sort()).toEqual([
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'AzureWebJobsStorage__accountName',
      'REGPRUNE_CONFIG',
      'REGPRUNE_ENTRA_REQUIRED_ROLE',
      'REGPRUNE_SCHEDULE',
    ]);
    expect(settings.get('REGPRUNE_SCHEDULE')).toEqual({ expr: 'pruneSchedule' });
    expect(declared(main, 'param', 'pruneSchedule').value).toBe('0 0 3 * * *');
    expect(settings.get('AzureWebJobsStorage__accountName')).toEqual({ expr: 'storage.name' });
    expect(settings.get('APPLICATIONINSIGHTS_CONNECTION_STRING')).toEqual({
      expr: 'appInsights.properties.ConnectionString',
    });
  });

  it('defaults REGPRUNE_CONFIG to a dry run of the target registry', () => {
    const defaultConfig = (declared(main, 'var', 'defaultConfig').value as { expr: string }).expr;

    expect(appSettings().get('REGPRUNE_CONFIG')).toEqual({ expr: 'empty(pruneConfig)? defaultConfig : pruneConfig' });
    expect(defaultConfig).toMatch(/dryRun : true/);
    expect(defaultConfig).toMatch(/provider : 'acr'/);
    expect(defaultConfig).toContain('registry.properties.loginServer');
  });

  it('uses a workspace-based Application Insights', () => {
    const insights = only(main, 'Microsoft.Insights/components');

    expect(at(insights.value, 'properties.WorkspaceResourceId')).toEqual({ expr: 'logs.id' });
  });

  it('keeps the storage account identity-only, TLS 1.2 and private', () => {
    const storage = only(main, 'Microsoft.Storage/storageAccounts');

    expect(at(storage.value, 'properties.allowSharedKeyAccess')).toBe(false);
    expect(at(storage.value, 'properties.allowBlobPublicAccess')).toBe(false);
    expect(at(storage.value, 'properties.minimumTlsVersion')).toBe('TLS1_2');
  });

  it('grants the app only Storage Blob Data Owner on its storage and Metrics Publisher on its App Insights', () => {
    const assignments = resourcesOf(appRoles, 'Microsoft.Authorization/roleAssignments');
    const module = main.find((d) => d.kind === 'module' && d.name === 'appRoles')!;

    expect(resourcesOf(main, 'Microsoft.Authorization/roleAssignments')).toEqual([]);
    expect(stringVar(appRoles, 'storageBlobDataOwnerRoleId')).toBe(ROLE.storageBlobDataOwner);
    expect(stringVar(appRoles, 'monitoringMetricsPublisherRoleId')).toBe(ROLE.monitoringMetricsPublisher);
    expect(assignments.map((a) => [at(a.value, 'scope'), at(a.value, 'properties.roleDefinitionId')])).toEqual([
      [
        { expr: 'storage' },
        { expr: "subscriptionResourceId('Microsoft.Authorization/roleDefinitions',storageBlobDataOwnerRoleId)" },
      ],
      [
        { expr: 'appInsights' },
        { expr: "subscriptionResourceId('Microsoft.Authorization/roleDefinitions',monitoringMetricsPublisherRoleId)" },
      ],
    ]);
    for (const a of assignments) expect(at(a.value, 'properties.principalId')).toEqual({ expr: 'principalId' });
    expect(at(module.value, 'params.principalId')).toEqual({ expr: 'functionApp.identity.principalId' });
  });

  it('names every role assignment from the principal id, so a recreated app redeploys cleanly', () => {
    const assignments = [
      ...resourcesOf(appRoles, 'Microsoft.Authorization/roleAssignments').map((a) => a.value),
      (only(roles, 'Microsoft.Authorization/roleAssignments').value as BicepFor).body,
    ];

    for (const value of assignments)
      expect((at(value, 'name') as { expr: string }).expr).toMatch(/^guid\(\w+\.id,principalId,/);
  });

  it('turns off FTP and basic publishing credentials (ftp and scm)', () => {
    const site = only(main, 'Microsoft.Web/sites');
    const policies = resourcesOf(main, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');

    expect(at(site.value, 'properties.siteConfig.ftpsState')).toBe('Disabled');
    expect(policies.map((p) => [at(p.value, 'name'), at(p.value, 'parent'), at(p.value, 'properties.allow')])).toEqual([
      ['ftp', { expr: 'functionApp' }, false],
      ['scm', { expr: 'functionApp' }, false],
    ]);
  });

  it('accepts Application Insights telemetry only with Entra auth', () => {
    const insights = only(main, 'Microsoft.Insights/components');

    expect(at(insights.value, 'properties.DisableLocalAuth')).toBe(true);
    expect(appSettings().get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe('Authorization=AAD');
  });

  it("signs the host's telemetry in as its system-assigned identity (no ClientId: a user-assigned one)", () => {
    const site = only(main, 'Microsoft.Web/sites');

    expect(at(site.value, 'identity.type')).toBe('SystemAssigned');
    expect(appSettings().get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).not.toMatch(/ClientId/i);
  });

  it('refuses cross-tenant replication and defaults the portal to OAuth on the storage account', () => {
    const storage = only(main, 'Microsoft.Storage/storageAccounts');

    expect(at(storage.value, 'properties.allowCrossTenantReplication')).toBe(false);
    expect(at(storage.value, 'properties.defaultToOAuthAuthentication')).toBe(true);
  });

  it('lower-cases the deployment container name', () => {
    expect(declared(main, 'var', 'deploymentContainerName').value).toEqual({
      expr: "toLower('app-package-${take(functionAppName,32)}')",
    });
  });

  it('alerts on failed runs and failed deletions, notifying the optional action group', () => {
    const alert = only(main, 'Microsoft.Insights/scheduledQueryRules');
    const criterion = (at(alert.value, 'properties.criteria.allOf') as BicepValue[])[0]!;

    expect(at(alert.value, 'properties.scopes')).toEqual([{ expr: 'appInsights.id' }]);
    expect(String(at(criterion, 'query'))).toContain('requests | where success == false');
    expect(String(at(criterion, 'query'))).toContain('name == "ImagesFailed"');
    expect(at(criterion, 'operator')).toBe('GreaterThan');
    expect(at(criterion, 'threshold')).toBe(0);
    expect(at(alert.value, 'properties.actions.actionGroups')).toEqual({
      expr: 'empty(alertActionGroupId)?[]:[alertActionGroupId]',
    });
    expect(declared(main, 'param', 'alertActionGroupId').value).toBe('');
  });
});

describe('Bicep: registry roles', () => {
  const assignment = only(roles, 'Microsoft.Authorization/roleAssignments');
  const loop = assignment.value as BicepFor;
  const byMode = declared(roles, 'var', 'roleIdsByMode').value as Record<string, BicepValue[]>;
  const roleIds = (mode: string) => byMode[mode]!.map((item) => stringVar(roles, (item as { expr: string }).expr));

  it('assigns AcrPull + AcrDelete on an RBAC-mode registry', () => {
    expect(roleIds('rbac').sort()).toEqual([ROLE.acrPull, ROLE.acrDelete].sort());
  });

  it('assigns Repository Contributor + Catalog Lister on an ABAC-mode registry', () => {
    expect(roleIds('abac').sort()).toEqual([ROLE.repositoryContributor, ROLE.repositoryCatalogLister].sort());
  });

  it('assigns one role per ID of the chosen mode, to the app identity, scoped to the registry', () => {
    expect(loop.for).toEqual({ item: 'roleId', source: 'roleIdsByMode[permissionsMode]' });
    expect(at(loop.body, 'scope')).toEqual({ expr: 'registry' });
    expect(at(loop.body, 'properties.roleDefinitionId')).toEqual({
      expr: "subscriptionResourceId('Microsoft.Authorization/roleDefinitions',roleId)",
    });
    expect(at(loop.body, 'properties.principalType')).toBe('ServicePrincipal');
    expect(only(roles, 'Microsoft.ContainerRegistry/registries').existing).toBe(true);
  });

  it('never grants Contributor, Owner or push anywhere', () => {
    const everything =
      readFileSync('infra/azure/main.bicep', 'utf8') + readFileSync('infra/azure/modules/registry-roles.bicep', 'utf8');

    for (const forbidden of [ROLE.contributor, ROLE.owner, ROLE.acrPush]) expect(everything).not.toContain(forbidden);
  });

  it('in ABAC mode limits Repository Contributor to the configured repository prefixes', () => {
    const condition = stringVar(roles, 'repositoryCondition');
    const inPrefixes = (declared(roles, 'var', 'inPrefixes').value as { expr: string }).expr;

    expect(at(loop.body, 'properties.condition')).toEqual({
      expr: 'conditioned && roleId == repositoryContributorRoleId ? repositoryCondition : null',
    });
    expect(at(loop.body, 'properties.conditionVersion')).toEqual({
      expr: "conditioned && roleId == repositoryContributorRoleId ? '2.0' : null",
    });
    expect(declared(roles, 'var', 'conditioned').value).toEqual({
      expr: "permissionsMode == 'abac' && ! empty(repositoryPrefixes)",
    });
    expect(condition).toBe('((${notRepositoryAction}) OR (${inPrefixes}))');
    expect(inPrefixes).toContain('@Resource[Microsoft.ContainerRegistry/registries/repositories:name]');
    expect(inPrefixes).toContain('StringStartsWithIgnoreCase');
    expect(declared(roles, 'var', 'repositoryActions').value).toEqual(
      ['content/read', 'content/write', 'content/delete', 'metadata/read', 'metadata/write', 'metadata/delete'].map(
        (action) => `Microsoft.ContainerRegistry/registries/repositories/${action}`,
      ),
    );
    const module = main.find((d) => d.kind === 'module' && d.name === 'registryRoles')!;
    expect(at(module.value, 'params.repositoryPrefixes')).toEqual({ expr: 'registryRepositoryPrefixes' });
  });

  it('is wired to the app identity and the mode parameter, which allows only rbac and abac', () => {
    const module = main.find((d) => d.kind === 'module' && d.name === 'registryRoles')!;

    expect(module.type).toBe('modules/registry-roles.bicep');
    expect(at(module.value, 'params.principalId')).toEqual({ expr: 'functionApp.identity.principalId' });
    expect(at(module.value, 'params.permissionsMode')).toEqual({ expr: 'registryPermissionsMode' });
    expect(at(module.value, 'scope')).toEqual({ expr: 'resourceGroup(registryResourceGroupName)' });
    expect(declared(main, 'param', 'registryPermissionsMode').decorators.allowed).toBe("['rbac' 'abac']");
  });
});

describe('Bicep: parameters', () => {
  it('requires the registry name and defaults the rest', () => {
    const params = main.filter((d) => d.kind === 'param');

    expect(params.filter((p) => p.value === undefined).map((p) => p.name)).toEqual(['registryName']);
  });
});

describe('Bicep: Microsoft Entra ID on the HTTP trigger', () => {
  const entraAuth = () => only(main, 'Microsoft.Web/sites/config');
  // The reader keeps an expression's source with its own spacing: compare without blanks.
  const expr = (value: BicepValue | undefined) => (value as { expr: string }).expr.replace(/\s+/g, '');

  it('is off unless a client ID is given, so existing deployments keep the function key alone', () => {
    expect(declared(main, 'param', 'entraClientId').value).toBe('');
    expect(expr(declared(main, 'var', 'entraAuthEnabled').value)).toBe('!empty(entraClientId)');
    expect(entraAuth().condition).toBe('entraAuthEnabled');
  });

  it('configures App Service authentication on the function app: a token required, 401 without one', () => {
    const auth = entraAuth();

    expect(at(auth.value, 'name')).toBe('authsettingsV2');
    expect(at(auth.value, 'parent')).toEqual({ expr: 'functionApp' });
    expect(at(auth.value, 'properties.platform.enabled')).toBe(true);
    expect(at(auth.value, 'properties.globalValidation')).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
    });
    expect(at(auth.value, 'properties.httpSettings.requireHttps')).toBe(true);
  });

  it('trusts tokens of the given app registration and tenant only', () => {
    const aad = at(entraAuth().value, 'properties.identityProviders.azureActiveDirectory');

    expect(at(aad, 'enabled')).toBe(true);
    expect(at(aad, 'registration.clientId')).toEqual({ expr: 'entraClientId' });
    expect(at(aad, 'registration.openIdIssuer')).toBe(
      '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0',
    );
    expect(declared(main, 'param', 'entraTenantId').value).toEqual({ expr: 'subscription().tenantId' });
    expect(expr(at(aad, 'validation.allowedAudiences'))).toContain("[entraClientId,'api://${entraClientId}']");
  });

  it('narrows callers to the listed applications and principals only when lists are given', () => {
    const policy = at(entraAuth().value, 'properties.identityProviders.azureActiveDirectory.validation');

    expect(expr(at(policy, 'defaultAuthorizationPolicy.allowedApplications'))).toBe(
      'empty(entraAllowedClientApplications)?null:entraAllowedClientApplications',
    );
    expect(expr(at(policy, 'defaultAuthorizationPolicy.allowedPrincipals.identities'))).toBe(
      'empty(entraAllowedPrincipalIds)?null:entraAllowedPrincipalIds',
    );
  });

  it('tells the handler the required app role exactly when authentication is on', () => {
    expect(expr(appSettings().get('REGPRUNE_ENTRA_REQUIRED_ROLE'))).toBe("entraAuthEnabled?entraRequiredRole:''");
    expect(declared(main, 'param', 'entraRequiredRole').value).toBe('Prune.Run');
  });
});
