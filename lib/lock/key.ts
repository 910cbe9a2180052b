/** The run lock's key: the registry itself (its endpoint), never the name a config gives it. */
import type { RegistryConfig } from '../config/schema.js';

/**
 * The registry's endpoint, normalized: no scheme, lower-case host, default port and trailing
 * slashes dropped (`https://MyReg.azurecr.io/` → `myreg.azurecr.io`,
 * `http://127.0.0.1:5000` → `127.0.0.1:5000`, ECR `123456789012.dkr.ecr.eu-west-1.amazonaws.com`).
 * docs/design.md, "Run lock".
 */
export function lockKeyFor(registry: RegistryConfig): string {
  return normalizeEndpoint(registry.endpoint);
}

/** `host[:port][/path]` of an endpoint with or without a scheme; see `lockKeyFor`. */
export function normalizeEndpoint(endpoint: string): string {
  const text = endpoint.trim();
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  // URL lower-cases the host and drops the scheme's default port (443 for https, 80 for http).
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.host}${path}`;
}
