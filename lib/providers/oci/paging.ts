/**
 * `_catalog` and `tags/list` paging: `?n=` asks for a page size (registry 2.8 refuses n > 1000
 * with 400 PAGINATION_NUMBER_INVALID, and ignores n on tags/list), and each page names the next in
 * `Link: <…>; rel="next"`, relative or absolute. A page without a Link is the last.
 */
import { z } from 'zod';
import { NotFoundError, RegistryProtocolError } from '../../errors.js';
import { CATALOG_SCOPE, pullScope } from './auth.js';
import type { OciClient, OciResponse } from './client.js';
import { registryErrorCode } from './registry-errors.js';

/** Largest page registry 2.8 accepts (`PAGINATION_NUMBER_INVALID` above it). */
export const MAX_PAGE_SIZE = 1000;
/** A registry whose Link chain does not end is broken; stop rather than loop forever. */
export const MAX_PAGES = 1_000_000;

const CatalogPageSchema = z.object({ repositories: z.array(z.string()).nullish() });
const TagsPageSchema = z.object({ tags: z.array(z.string()).nullish() });

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    const rel = match ? /\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))/i.exec(match[2]!) : null;
    const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (match && relations.includes('next')) return match[1];
  }
  return undefined;
}

function withoutPageSize(path: string): string {
  const url = new URL(path, 'http://placeholder');
  url.searchParams.delete('n');
  return path.startsWith('http') ? url.href : `${url.pathname}${url.search}`;
}

async function* pages(client: OciClient, firstPath: string, scope: string, what: string): AsyncGenerator<unknown> {
  let path: string | undefined = firstPath;
  const seen = new Set<string>();
  for (let page = 0; path !== undefined; page++) {
    if (page >= MAX_PAGES || seen.has(path)) {
      throw new RegistryProtocolError(
        `${what}: the registry's Link headers go round in circles (${path}); stopped paging.`,
      );
    }
    seen.add(path);
    const first = page === 0;
    let response = await client.request({
      method: 'GET',
      path,
      scope,
      accept: 'application/json',
      passStatuses: first ? [400] : [],
    });
    if (response.status === 400) {
      // A registry with a smaller maximum page than ours refuses n: ask again for its default page size.
      if (registryErrorCode(response.body) !== 'PAGINATION_NUMBER_INVALID') throw client.errorFor(response, 'GET');
      response = await client.request({
        method: 'GET',
        path: withoutPageSize(path),
        scope,
        accept: 'application/json',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(response.body).toString('utf8'));
    } catch (error) {
      throw new RegistryProtocolError(`${what}: the registry answered a page that is not JSON`, { cause: error });
    }
    yield json;
    path = nextPagePath(response);
  }
}

/**
 * Where the response's `Link: rel="next"` points, as a path for the client; `undefined` on the last
 * page. A relative Link is relative to the page it came from (RFC 8288). An absolute one naming our
 * host with another scheme or port (a TLS-terminating proxy) is followed on our endpoint; one
 * naming another host is refused by the client.
 */
export function nextPagePath(response: OciResponse): string | undefined {
  const next = nextLink(response.header('link'));
  if (next === undefined) return undefined;
  const target = new URL(next, response.url);
  return target.hostname === new URL(response.url).hostname ? `${target.pathname}${target.search}` : target.href;
}

/** Every repository name in the catalog, page by page. */
export async function* listCatalog(client: OciClient, pageSize = MAX_PAGE_SIZE): AsyncGenerator<string> {
  for await (const page of pages(client, `/v2/_catalog?n=${pageSize}`, CATALOG_SCOPE, 'GET /v2/_catalog')) {
    const parsed = CatalogPageSchema.safeParse(page);
    if (!parsed.success) throw new RegistryProtocolError('GET /v2/_catalog: expected {"repositories": [...]}');
    yield* parsed.data.repositories ?? [];
  }
}

/** Every tag of a repository; empty when the repository has no tags or no longer exists. */
export async function listAllTags(client: OciClient, repository: string, pageSize = MAX_PAGE_SIZE): Promise<string[]> {
  const tags: string[] = [];
  const path = `/v2/${repository}/tags/list?n=${pageSize}`;
  try {
    for await (const page of pages(client, path, pullScope(repository), `GET /v2/${repository}/tags/list`)) {
      const parsed = TagsPageSchema.safeParse(page);
      if (!parsed.success) throw new RegistryProtocolError(`GET /v2/${repository}/tags/list: expected {"tags": [...]}`);
      tags.push(...(parsed.data.tags ?? []));
    }
  } catch (error) {
    // NAME_UNKNOWN: the repository went away since the catalog listed it (or all its tags did).
    if (error instanceof NotFoundError && tags.length === 0) return [];
    throw error;
  }
  return [...new Set(tags)];
}
