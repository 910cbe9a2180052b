// Reader on one resource group, for the config's inUse source of kind "containerApps"
// (docs/design.md, "In-use protection"): it lists container apps, their revisions and jobs. Reader
// grants reads only; the role definition ID is the same in every tenant (Azure built-in roles).

@description('Object ID of the function app\'s system-assigned identity.')
param principalId string

var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, readerRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
