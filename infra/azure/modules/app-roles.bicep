// The function app's roles on its own resources. Names come from the principal id, as in
// registry-roles.bicep: a recreated app (new identity) gets new assignments on redeploy instead of
// a RoleAssignmentExists conflict with the old identity's.

@description('The function app\'s storage account (in this resource group).')
param storageAccountName string

@description('The function app\'s Application Insights component (in this resource group).')
param appInsightsName string

@description('Object ID of the function app\'s system-assigned identity.')
param principalId string

// Storage Blob Data Owner: identity-based AzureWebJobsStorage (host state, timer schedule, blob
// leases for the run lock, regprune's state store in the regprune-state container, which it creates
// on first use) and the Flex deployment container. Blob only: no queue or table role.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Monitoring Metrics Publisher: Application Insights refuses local (connection-string) auth, so
// telemetry is sent with an Entra token of this identity.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource storageRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
