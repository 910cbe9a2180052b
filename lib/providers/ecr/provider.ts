/** The ECR provider: DescribeRepositories, DescribeImages, BatchGetImage (indexes), BatchDeleteImage. */
import { budgetLimitsFor, RequestBudget } from '../../throttle/index.js';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import type { EcrRegistryConfig } from '../../config/schema.js';
import { mapConcurrent } from '../../concurrency.js';
import { RegistryProtocolError } from '../../errors.js';
import type { Image, Inventory } from '../../model.js';
import type {
  DeleteRequest,
  DeleteResult,
  Provider,
  ProviderOptions,
  ProviderStats,
  RepositoryCache,
  TagListing,
} from '../provider.js';
import { createEcrClient, type EcrClientHooks } from './client.js';
import { deleteInBatches, ECR_BATCH_DELETE_MAX, type EcrImageId } from './delete.js';
import { ecrError, type EcrCallSite } from './errors.js';
import { imageFromDetail, INDEX_MEDIA_TYPES, indexChildren } from './images.js';
import { parseEcrRegistryHost } from './registry.js';

/** DescribeImages / DescribeRepositories page size. // API limit (default 100) */
export const ECR_DESCRIBE_MAX_RESULTS = 1000;
/** BatchGetImage takes at most 100 image ids per call. // API limit */
export const ECR_BATCH_GET_MAX = 100;
/** Requests in flight at once when the config does not say. */
export const ECR_DEFAULT_CONCURRENCY = 4;

export type EcrProviderOptions = ProviderOptions & { readonly client?: EcrClientHooks };

/** A provider for one ECR registry (one account and region). */
export function createEcrProvider(registry: EcrRegistryConfig, options: EcrProviderOptions = {}): Provider {
  const { registryId, region } = parseEcrRegistryHost(registry.endpoint);
  const stats: ProviderStats = { apiCalls: 0, retries: 0, throttled: 0 };
  const budget = new RequestBudget(budgetLimitsFor(registry));
  const client = createEcrClient({
    region,
    endpoint: registry.apiEndpoint,
    hooks: options.client ?? {},
    stats,
    budget,
  });
  return new EcrProvider(registry, client, registryId, stats, options);
}

class EcrProvider implements Provider {
  readonly kind = 'ecr' as const;
  readonly name: string;
  readonly maxDeleteBatch = ECR_BATCH_DELETE_MAX;
  private readonly concurrency: number;

  constructor(
    config: EcrRegistryConfig,
    private readonly client: ECRClient,
    private readonly registryId: string,
    readonly stats: ProviderStats,
    private readonly options: EcrProviderOptions,
  ) {
    this.name = config.name;
    this.concurrency = config.concurrency ?? ECR_DEFAULT_CONCURRENCY;
  }

  /** Sends one command and maps whatever the SDK throws. */
  private async call<T>(site: Omit<EcrCallSite, 'registry'>, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw ecrError(error, { registry: this.name, ...site });
    }
  }

  async *listRepositories(): AsyncIterable<string> {
    let nextToken: string | undefined;
    do {
      const page = await this.call({ operation: 'DescribeRepositories' }, () =>
        this.client.send(
          new DescribeRepositoriesCommand({
            registryId: this.registryId,
            maxResults: ECR_DESCRIBE_MAX_RESULTS,
            nextToken,
          }),
        ),
      );
      for (const repository of page.repositories ?? []) {
        if (repository.repositoryName) yield repository.repositoryName;
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }

  /**
   * Every DescribeImages entry, all pages; `tagged` asks only for tagged images. `imageStatus: ANY`:
   * without it ECR lists only ACTIVE images, and a signature whose subject is archived would look
   * like a stray orphan (docs/design.md, rule 16).
   */
  private async describeAll(repository: string, tagStatus: 'ANY' | 'TAGGED'): Promise<ImageDetail[]> {
    const details: ImageDetail[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call({ operation: 'DescribeImages', repository }, () =>
        this.client.send(
          new DescribeImagesCommand({
            registryId: this.registryId,
            repositoryName: repository,
            maxResults: ECR_DESCRIBE_MAX_RESULTS,
            filter: { tagStatus, imageStatus: 'ANY' },
            nextToken,
          }),
        ),
      );
      details.push(...(page.imageDetails ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return details;
  }

  /** DescribeImages, all pages, and BatchGetImage for the children of each index. */
  async listInventory(repository: string): Promise<Inventory> {
    const warnings: string[] = [];
    const images = new Map<string, Image>();
    for (const detail of await this.describeAll(repository, 'ANY')) {
      const image = imageFromDetail(detail);
      if (image) images.set(image.digest, image);
    }
    const indexes = [...images.values()].filter((image) => image.kind === 'index');
    // An index's children never change (docs/design.md, "Inventory cache"): BatchGetImage only for new ones.
    const cache = indexes.length > 0 ? await this.options.cache?.open(repository) : undefined;
    const known = new Map<string, string[]>();
    for (const index of indexes) {
      const cached = cache?.manifest(index.digest);
      const parsed = cached === undefined ? undefined : indexChildren(cached.body);
      if (parsed?.ok) known.set(index.digest, parsed.children);
    }
    const children = await this.readIndexChildren(
      repository,
      indexes.filter((index) => !known.has(index.digest)),
      warnings,
      cache,
    );
    for (const [digest, childDigests] of known) children.set(digest, childDigests);
    await cache?.save();
    const listed = [...images.values()].map((image) => {
      const childDigests = children.get(image.digest);
      return childDigests ? { ...image, children: childDigests } : image;
    });
    return { registry: this.name, repository, images: listed, warnings };
  }

  async listImages(repository: string): Promise<Image[]> {
    const { images, warnings } = await this.listInventory(repository);
    for (const warning of warnings) this.options.log?.warn(warning, { registry: this.name, repository });
    return [...images];
  }

  /** Child digests of each index, read with BatchGetImage (index manifests only, 100 per call). */
  private async readIndexChildren(
    repository: string,
    indexes: readonly Image[],
    warnings: string[],
    cache?: RepositoryCache,
  ): Promise<Map<string, string[]>> {
    const children = new Map<string, string[]>();
    const batches: Image[][] = [];
    for (let i = 0; i < indexes.length; i += ECR_BATCH_GET_MAX) batches.push(indexes.slice(i, i + ECR_BATCH_GET_MAX));
    await mapConcurrent(batches, this.concurrency, async (batch) => {
      const response = await this.call({ operation: 'BatchGetImage', repository }, () =>
        this.client.send(
          new BatchGetImageCommand({
            registryId: this.registryId,
            repositoryName: repository,
            imageIds: batch.map((image) => ({ imageDigest: image.digest })),
            acceptedMediaTypes: [...INDEX_MEDIA_TYPES],
          }),
        ),
      );
      for (const got of response.images ?? []) {
        const digest = got.imageId?.imageDigest;
        if (!digest) continue;
        const parsed = indexChildren(got.imageManifest ?? '');
        if (!parsed.ok) {
          // Without its children an index's platform manifests would look like orphans: stop here.
          throw new RegistryProtocolError(
            `ECR index ${digest} in ${repository} (registry "${this.name}") cannot be read: ${parsed.error}`,
          );
        }
        children.set(digest, parsed.children);
        cache?.rememberManifest(digest, { mediaType: got.imageManifestMediaType ?? '', body: got.imageManifest ?? '' });
      }
      for (const failure of response.failures ?? []) {
        const digest = failure.imageId?.imageDigest ?? '?';
        if (failure.failureCode === 'ImageNotFound') {
          warnings.push(
            `index ${digest} vanished while listing (deleted meanwhile); its platform manifests are judged as untagged`,
          );
          children.set(digest, []);
          continue;
        }
        const archived = batch.find((index) => index.digest === digest)?.storage;
        const restore =
          archived === 'archived' || archived === 'activating'
            ? ` (the index is ${archived}: restore it with \`aws ecr update-image-storage-class ` +
              `--repository-name ${repository} --image-id imageDigest=${digest} --target-storage-class STANDARD\`)`
            : '';
        throw new RegistryProtocolError(
          `ECR would not return index ${digest}${restore} in ${repository} (registry "${this.name}"): ` +
            `${failure.failureCode ?? 'unknown'} ${failure.failureReason ?? ''}`.trim() +
            '; its platform manifests cannot be protected, so this repository is skipped',
        );
      }
    });
    for (const index of indexes) {
      if (!children.has(index.digest)) {
        throw new RegistryProtocolError(
          `ECR returned neither the manifest nor a failure for index ${index.digest} in ${repository}`,
        );
      }
    }
    return children;
  }

  /** tag → digest for every tagged image now (DescribeImages, tagged only). */
  private async currentTags(repository: string): Promise<Map<string, string>> {
    const current = new Map<string, string>();
    for (const detail of await this.describeAll(repository, 'TAGGED')) {
      for (const tag of detail.imageTags ?? []) if (detail.imageDigest) current.set(tag, detail.imageDigest);
    }
    return current;
  }

  /** DescribeImages lists each tag with its digest, so the listing answers where every tag points. */
  async listTags(repository: string): Promise<TagListing> {
    const targets = await this.currentTags(repository);
    return { tags: [...targets.keys()].sort(), targets };
  }

  /** One tagged-only DescribeImages listing (⌈tagged/1000⌉ calls), whatever the number of tags asked. */
  async resolveTags(repository: string, tags: readonly string[]): Promise<Map<string, string | null>> {
    const current = await this.currentTags(repository);
    return new Map(tags.map((tag) => [tag, current.get(tag) ?? null]));
  }

  async delete(repository: string, requests: readonly DeleteRequest[]): Promise<DeleteResult[]> {
    const send = async (imageIds: readonly EcrImageId[]) => {
      const response = await this.call({ operation: 'BatchDeleteImage', repository }, () =>
        this.client.send(
          new BatchDeleteImageCommand({
            registryId: this.registryId,
            repositoryName: repository,
            imageIds: [...imageIds],
          }),
        ),
      );
      return {
        deleted: response.imageIds ?? [],
        failures: (response.failures ?? []).map((failure) => ({
          imageId: failure.imageId ?? {},
          code: failure.failureCode ?? 'Unknown',
          reason: failure.failureReason ?? '',
        })),
      };
    };
    return deleteInBatches(requests, send, this.concurrency);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
