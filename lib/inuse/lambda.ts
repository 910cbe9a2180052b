/**
 * AWS Lambda as a usage source: container-image functions, every published version too (an alias
 * can route to an older version and its image), with the digest Lambda resolved
 * (docs/design.md, "In-use protection"). Read-only: ListFunctions and GetFunction.
 */
import {
  GetFunctionCommand,
  LambdaClient,
  type LambdaClientConfig,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { awsSourceError } from './aws-errors.js';
import type { InUseSourceConfig } from './config.js';
import type { ImageUse, UsageSource } from './types.js';

type LambdaSourceConfig = Extract<InUseSourceConfig, { kind: 'lambda' }>;

export interface LambdaSourceOptions {
  /** Extra client settings (tests: credentials); region and endpoint come from the config. */
  readonly client?: Partial<LambdaClientConfig>;
}

/** A usage source over the Lambda functions of one region. */
export function lambdaSource(config: LambdaSourceConfig, options: LambdaSourceOptions = {}): UsageSource {
  let calls = 0;
  return {
    name: config.name,
    kind: 'lambda',
    calls: () => calls,
    async read(signal) {
      const client = new LambdaClient({
        region: config.region,
        ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
        ...options.client,
      });
      try {
        const uses: ImageUse[] = [];
        let marker: string | undefined;
        do {
          calls++;
          const page = await client.send(new ListFunctionsCommand({ FunctionVersion: 'ALL', Marker: marker }), {
            abortSignal: signal,
          });
          for (const fn of page.Functions ?? []) {
            if (fn.PackageType !== 'Image' || fn.FunctionName === undefined) continue;
            calls++;
            const answer = await client.send(
              new GetFunctionCommand({ FunctionName: fn.FunctionName, Qualifier: fn.Version ?? '$LATEST' }),
              { abortSignal: signal },
            );
            const uri = answer.Code?.ImageUri;
            if (uri === undefined) continue;
            const resolved = answer.Code?.ResolvedImageUri?.split('@')[1] ?? null;
            uses.push({
              reference: uri,
              resolvedDigest: resolved,
              user: `${config.name}: function ${fn.FunctionName}:${fn.Version ?? '$LATEST'}`,
            });
          }
          marker = page.NextMarker;
        } while (marker !== undefined);
        return uses;
      } catch (error) {
        throw awsSourceError(error, 'lambda');
      } finally {
        client.destroy();
      }
    },
  };
}
