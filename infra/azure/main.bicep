// regprune on Azure Functions Flex Consumption (FC1, Linux, Node 22): prunes an Azure Container
// Registry nightly and on demand. Deploy into a resource group:
//   az deployment group create -g <rg> -f infra/azure/main.bicep -p registryName=<registry>
// then publish the code (see docs/azure.md).

@description('Azure region for every resource.')
param location string = resourceGroup().location

@description('Prefix of the resource names.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'regprune'

@description('Function app name (globally unique: part of <name>.azurewebsites.net).')
param functionAppName string = '${namePrefix}-${uniqueString(resourceGroup().id)}'

@description('Storage account of the function app: host state, deployment package and regprune state: run lock, history (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param storageAccountName string = toLower('${take(replace(namePrefix, '-', ''), 10)}${uniqueString(resourceGroup().id)}')

@description('Name of the registry to prune (the <name> of <name>.azurecr.io).')
param registryName string

@description('Resource group of the registry, if it is not the deployment resource group.')
param registryResourceGroupName string = resourceGroup().name

@description('Role assignment permissions mode of the registry: "rbac" (AcrPull + AcrDelete) or "abac" for registries in "RBAC Registry + ABAC Repository Permissions" mode, where AcrPull/AcrDelete are not honoured (Container Registry Repository Contributor + Catalog Lister).')
@allowed([
  'rbac'
  'abac'
])
param registryPermissionsMode string = 'rbac'

@description('When to prune: 6-field NCRONTAB in UTC (default 03:00 every night).')
param pruneSchedule string = '0 0 3 * * *'

@description('The regprune config (YAML or JSON) for REGPRUNE_CONFIG. Default: a dry run of every repository of the registry with the built-in retention, so a new deployment first reports what it would delete.')
param pruneConfig string = ''

@description('Most instances Flex Consumption may scale to (the run lock keeps runs one per registry anyway).')
param maximumInstanceCount int = 40

@description('Memory per instance, MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'
var defaultConfig = string({
  version: 1
  dryRun: true
  registries: [
    {
      name: registryName
      provider: 'acr'
      endpoint: 'https://${registry.properties.loginServer}'
      repositories: [
        {
          match: '**'
        }
      ]
    }
  ]
})
// Storage Blob Data Owner: identity-based AzureWebJobsStorage (host state, timer schedule, blob
// leases for the run lock, regprune's state store in the regprune-state container, which it creates
// on first use) and the Flex deployment container. Blob only: no queue or table role.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
  scope: resourceGroup(registryResourceGroupName)
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs-${uniqueString(resourceGroup().id)}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-ai-${uniqueString(resourceGroup().id)}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${namePrefix}-plan-${uniqueString(resourceGroup().id)}'
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.name
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'REGPRUNE_SCHEDULE'
          value: pruneSchedule
        }
        {
          name: 'REGPRUNE_CONFIG'
          value: empty(pruneConfig) ? defaultConfig : pruneConfig
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

resource storageRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

module registryRoles 'modules/registry-roles.bicep' = {
  name: 'regprune-registry-roles'
  scope: resourceGroup(registryResourceGroupName)
  params: {
    registryName: registryName
    principalId: functionApp.identity.principalId
    permissionsMode: registryPermissionsMode
  }
}

output functionAppName string = functionApp.name
output principalId string = functionApp.identity.principalId
output deploymentContainer string = deploymentContainerName
output pruneUrl string = 'https://${functionApp.properties.defaultHostName}/api/prune'
