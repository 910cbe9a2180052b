// The least-privileged built-in roles that let regprune list and delete images, on one registry.
// Role definition IDs are the same in every tenant (Azure built-in roles, Containers category).

@description('Name of the registry (in this module\'s resource group).')
param registryName string

@description('Object ID of the function app\'s system-assigned identity.')
param principalId string

@description('"rbac": AcrPull (list, read manifests) + AcrDelete (delete; it cannot list). "abac": registries in ABAC repository-permissions mode honour neither, so Container Registry Repository Contributor (read, delete) + Repository Catalog Lister (list repositories).')
@allowed([
  'rbac'
  'abac'
])
param permissionsMode string

@description('"abac" only: repository name prefixes the Repository Contributor role is limited to. Empty: every repository.')
param repositoryPrefixes array = []

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var acrDeleteRoleId = 'c2f4ef07-c644-48eb-af81-4b1b4947fb11'
var repositoryContributorRoleId = '2efddaa5-3f1f-4df3-97df-af3f13818f4c'
var repositoryCatalogListerRoleId = 'bfdb9389-c9a5-478a-bb2f-ba9ca092c3c7'
var roleIdsByMode = {
  rbac: [
    acrPullRoleId
    acrDeleteRoleId
  ]
  abac: [
    repositoryContributorRoleId
    repositoryCatalogListerRoleId
  ]
}

// ABAC (docs/azure.md, "ABAC repository conditions"): the repository-scoped roles accept a condition
// on @Resource[Microsoft.ContainerRegistry/registries/repositories:name]. It limits every repository
// data action of Repository Contributor (read, write, delete) to the configured prefixes. Catalog
// Lister acts on the registry's catalog, which has no repository to test, so it stays unconditioned.
var repositoryActions = [
  'Microsoft.ContainerRegistry/registries/repositories/content/read'
  'Microsoft.ContainerRegistry/registries/repositories/content/write'
  'Microsoft.ContainerRegistry/registries/repositories/content/delete'
  'Microsoft.ContainerRegistry/registries/repositories/metadata/read'
  'Microsoft.ContainerRegistry/registries/repositories/metadata/write'
  'Microsoft.ContainerRegistry/registries/repositories/metadata/delete'
]
var notRepositoryAction = join(map(repositoryActions, action => '!(ActionMatches{\'${action}\'})'), ' AND ')
var inPrefixes = join(
  map(
    repositoryPrefixes,
    prefix => '@Resource[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase \'${prefix}\''
  ),
  ' OR '
)
var repositoryCondition = '((${notRepositoryAction}) OR (${inPrefixes}))'
var conditioned = permissionsMode == 'abac' && !empty(repositoryPrefixes)

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource registryRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in roleIdsByMode[permissionsMode]: {
  name: guid(registry.id, principalId, roleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    condition: conditioned && roleId == repositoryContributorRoleId ? repositoryCondition : null
    conditionVersion: conditioned && roleId == repositoryContributorRoleId ? '2.0' : null
  }
}]
