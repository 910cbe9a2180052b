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

@description('ABAC mode only: repository name prefixes the roles are limited to (an ABAC condition on the role assignment). Empty: every repository of the registry. Keep them in step with the config\'s rules.')
param registryRepositoryPrefixes array = []

@description('Action group (resource ID) the failed-run alert notifies. Empty: the alert fires but notifies no one.')
param alertActionGroupId string = ''

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

@description('Microsoft Entra ID on the HTTP trigger: client (application) ID of the app registration that protects it (App Service authentication, docs/azure.md "Who may trigger a run"). Empty: off, the function key alone guards the trigger.')
param entraClientId string = ''

@description('Microsoft Entra ID: tenant of that app registration.')
param entraTenantId string = subscription().tenantId

@description('Microsoft Entra ID: the app role (value) a caller\'s token must carry in its roles claim to start a run; regprune answers 403 otherwise.')
param entraRequiredRole string = 'Prune.Run'

@description('Microsoft Entra ID: token audiences accepted. Empty: the client ID and api://<client ID>.')
param entraAllowedAudiences array = []

@description('Microsoft Entra ID: client applications (client IDs) allowed to call. Empty: any application the tenant issues a token to for this audience.')
param entraAllowedClientApplications array = []

@description('Microsoft Entra ID: object IDs of the users, groups\' members or service principals allowed to call. Empty: no restriction beyond the app role.')
param entraAllowedPrincipalIds array = []

var entraAuthEnabled = !empty(entraClientId)

// Container names are lower-case only; functionAppName may not be.
@description('Resource groups whose container apps and jobs an inUse source of kind containerApps reads, as objects { subscriptionId, resourceGroup }; the function gets Reader on each (docs/azure.md, "In-use protection"). Empty: none.')
param inUseResourceGroups array = []

var deploymentContainerName = toLower('app-package-${take(functionAppName, 32)}')
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
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
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
    // The connection string alone no longer lets anyone post telemetry: Entra tokens only, from the
    // app's identity (Monitoring Metrics Publisher, modules/app-roles.bicep).
    DisableLocalAuth: true
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
      ftpsState: 'Disabled'
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
          // The Functions host sends its own telemetry with the system-assigned identity.
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD'
        }
        {
          name: 'REGPRUNE_SCHEDULE'
          value: pruneSchedule
        }
        {
          name: 'REGPRUNE_CONFIG'
          value: empty(pruneConfig) ? defaultConfig : pruneConfig
        }
        {
          // Set exactly when App Service authentication is (authsettingsV2 below): only then does the
          // handler read x-ms-client-principal, which the platform sets and strips from clients.
          name: 'REGPRUNE_ENTRA_REQUIRED_ROLE'
          value: entraAuthEnabled ? entraRequiredRole : ''
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

// No FTP or basic-auth (publishing profile) deployments: the package goes in with the identity.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// Microsoft Entra ID in front of the HTTP trigger (App Service authentication): a request without a
// valid token for this app is answered 401 before it reaches the function; the function key is
// still required (authLevel 'function'), and the handler requires the app role (403 otherwise).
// The timer trigger is not an HTTP request and is not affected.
resource entraAuth 'Microsoft.Web/sites/config@2024-04-01' = if (entraAuthEnabled) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: empty(entraAllowedAudiences) ? [entraClientId, 'api://${entraClientId}'] : entraAllowedAudiences
          defaultAuthorizationPolicy: {
            // null leaves a check out altogether rather than relying on what an empty list means.
            allowedApplications: empty(entraAllowedClientApplications) ? null : entraAllowedClientApplications
            allowedPrincipals: {
              identities: empty(entraAllowedPrincipalIds) ? null : entraAllowedPrincipalIds
            }
          }
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

// A module, so that the assignments' names can come from the principal id (a runtime value here):
// a recreated app gets new assignments instead of a RoleAssignmentExists conflict on redeploy.
module appRoles 'modules/app-roles.bicep' = {
  name: 'regprune-app-roles'
  params: {
    storageAccountName: storage.name
    appInsightsName: appInsights.name
    principalId: functionApp.identity.principalId
  }
}

// A failed run: an invocation that failed (bad config, crash) or images it could not delete.
resource failedRunAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-failed-runs-${uniqueString(resourceGroup().id)}'
  location: location
  properties: {
    displayName: 'regprune: failed run'
    description: 'A regprune invocation failed, or a run could not delete images it meant to delete.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'union (requests | where success == false), (customMetrics | where name == "ImagesFailed" and valueSum > 0)'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(alertActionGroupId) ? [] : [
        alertActionGroupId
      ]
    }
  }
}

// The work queue and the app's roles on it: continuations and async runs (modules/queue.bicep).
module workQueue 'modules/queue.bicep' = {
  name: 'regprune-work-queue'
  params: {
    storageAccountName: storage.name
    principalId: functionApp.identity.principalId
  }
}

module registryRoles 'modules/registry-roles.bicep' = {
  name: 'regprune-registry-roles'
  scope: resourceGroup(registryResourceGroupName)
  params: {
    registryName: registryName
    principalId: functionApp.identity.principalId
    permissionsMode: registryPermissionsMode
    repositoryPrefixes: registryRepositoryPrefixes
  }
}

module inUseReaders 'modules/in-use-reader.bicep' = [for scope in inUseResourceGroups: {
  name: 'regprune-in-use-reader-${uniqueString(scope.subscriptionId, scope.resourceGroup)}'
  scope: resourceGroup(scope.subscriptionId, scope.resourceGroup)
  params: {
    principalId: functionApp.identity.principalId
  }
}]

output functionAppName string = functionApp.name
output principalId string = functionApp.identity.principalId
output deploymentContainer string = deploymentContainerName
output pruneUrl string = 'https://${functionApp.properties.defaultHostName}/api/prune'
output entraAuthEnabled bool = entraAuthEnabled
