/**
 * Credentials named in the config, and the Distribution token flow
 * (https://distribution.github.io/distribution/spec/auth/token/). Secrets stay in this module's
 * values: they are never logged and never put in an error message.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { OciRegistryConfig } from '../../config/schema.js';

export type Credentials =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'basic'; readonly header: string; readonly variables: string }
  | { readonly kind: 'bearer'; readonly header: string; readonly variables: string };

/** Reads the variables the config names; a missing one is a ConfigError naming it (and never its value). */
export function readCredentials(config: OciRegistryConfig, env: NodeJS.ProcessEnv): Credentials {
  const auth = config.auth;
  if (!auth) return { kind: 'anonymous' };
  const read = (name: string, field: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new ConfigError(
        `registry "${config.name}": environment variable ${name} (auth.${field}) is not set. Set it, or remove auth ` +
          `from the registry's config.`,
        [`auth.${field}: environment variable ${name} is not set`],
      );
    }
    return value;
  };
  if ('tokenEnv' in auth) {
    return { kind: 'bearer', header: `Bearer ${read(auth.tokenEnv, 'tokenEnv')}`, variables: auth.tokenEnv };
  }
  const username = read(auth.usernameEnv, 'usernameEnv');
  const password = read(auth.passwordEnv, 'passwordEnv');
  return {
    kind: 'basic',
    header: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
    variables: `${auth.usernameEnv} and ${auth.passwordEnv}`,
  };
}

export interface BearerChallenge {
  readonly realm: string;
  readonly service: string | undefined;
  readonly scope: string | undefined;
}

/** Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`; undefined for Basic or anything else. */
export function parseBearerChallenge(header: string | null): BearerChallenge | undefined {
  if (!header || !/^\s*bearer\s/i.test(header)) return undefined;
  const params = new Map<string, string>();
  for (const match of header
    .replace(/^\s*bearer\s+/i, '')
    .matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params.set(match[1]!.toLowerCase(), (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  const realm = params.get('realm');
  if (!realm) return undefined;
  return { realm, service: params.get('service'), scope: params.get('scope') };
}

const TokenResponseSchema = z
  .object({
    token: z.string().min(1).optional(),
    access_token: z.string().min(1).optional(),
    expires_in: z.number().positive().optional(),
  })
  .refine((body) => body.token !== undefined || body.access_token !== undefined, { error: 'no token or access_token' });

/** The token spec's default lifetime when the server does not say. */
const DEFAULT_TOKEN_LIFETIME_S = 60;
/** Refresh a little early so a token does not expire between our check and the registry's. */
const TOKEN_EXPIRY_MARGIN_MS = 5_000;

export interface IssuedToken {
  readonly header: string;
  readonly expiresAtMs: number;
}

/** Reads a token endpoint's JSON answer; undefined when it holds no token. */
export function parseTokenResponse(body: Uint8Array, nowMs: number): IssuedToken | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = TokenResponseSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const token = parsed.data.token ?? parsed.data.access_token!;
  const lifetimeMs = (parsed.data.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
  return {
    header: `Bearer ${token}`,
    expiresAtMs: nowMs + Math.max(lifetimeMs - TOKEN_EXPIRY_MARGIN_MS, lifetimeMs / 2),
  };
}

/** The token URL for a challenge: realm with `service` and one `scope` parameter per scope. */
export function tokenUrl(challenge: BearerChallenge, scopes: readonly string[]): URL {
  const url = new URL(challenge.realm);
  if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  return url;
}

/** Scope to read a repository (manifests, blobs, tags, referrers). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/**
 * Scope to delete in a repository. distribution checks the `delete` action (since 2017; `*` before),
 * as do Harbor, Keppel and IBM Cloud Registry; `pull` is asked too so one token also reads. Token
 * servers grant the intersection of what is asked and what the account may do, so asking for
 * both is never an error in itself.
 */
export function deleteScope(repository: string): string {
  return `repository:${repository}:pull,delete`;
}

/** Scope to put a manifest back under a tag. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export const CATALOG_SCOPE = 'registry:catalog:*';
