import { startAzurite, startAzuriteService, type Azurite } from './azurite.js';

/** Azurite blob + queue; `connectionString` names both endpoints. */
export async function startAzuriteWithQueue(): Promise<Azurite> {
  const [blob, queue] = await Promise.all([startAzurite(), startAzuriteService('queue')]);
  return {
    connectionString: `${blob.connectionString}QueueEndpoint=http://127.0.0.1:${queue.port}/devstoreaccount1;`,
    stop: async () => {
      await Promise.all([blob.stop(), queue.stop()]);
    },
  };
}
