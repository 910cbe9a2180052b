// The work queue (docs/design.md, "Continuation"): continuations of scheduled runs that left work,
// and on-demand runs queued by POST /prune, in the function app's own storage account. The
// queue-triggered function (pruneWorker) reads it with the app's identity. Role assignment names
// come from the principal id, as in app-roles.bicep.

@description('The function app\'s storage account (in this resource group).')
param storageAccountName string

@description('Object ID of the function app\'s system-assigned identity.')
param principalId string

@description('Name of the work queue; the app reads REGPRUNE_QUEUE (default regprune-runs).')
param queueName string = 'regprune-runs'

// Storage Queue Data Reader: the queue trigger reads the queue's length to scale (Functions docs,
// identity-based connections, queue trigger).
var storageQueueDataReaderRoleId = '19e7f393-937e-4f77-808e-94535e297925'
// Storage Queue Data Message Processor: the trigger peeks, receives and deletes messages.
var storageQueueDataMessageProcessorRoleId = '8a0f0c08-91a1-4084-bc3d-661d67233fed'
// Storage Queue Data Message Sender: regprune queues continuations and async runs, sends a
// lock-held message back with a delay, and the host moves a failing message to the poison queue.
var storageQueueDataMessageSenderRoleId = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
var queueRoleIds = [
  storageQueueDataReaderRoleId
  storageQueueDataMessageProcessorRoleId
  storageQueueDataMessageSenderRoleId
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource runsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: queueName
}

// The host moves a message here after maxDequeueCount failed deliveries (host.json). Created here
// because the app's roles let it send to a queue, not create one.
resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${queueName}-poison'
}

resource queueRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in queueRoleIds: {
    name: guid(storage.id, principalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output queueName string = runsQueue.name
