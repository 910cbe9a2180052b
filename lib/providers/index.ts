/**
 * Builds the provider for a registry config. Adapters are imported lazily so that a bundle (an
 * Azure or AWS function) only loads the SDK it uses.
 */
import type { RegistryConfig } from '../config/schema.js';
import { assertNever } from '../errors.js';
import { readCredentials } from './oci/auth.js';
import type { Provider, ProviderOptions } from './provider.js';

/** A provider for any configured registry. */
export async function createProvider(registry: RegistryConfig, options: ProviderOptions = {}): Promise<Provider> {
  switch (registry.provider) {
    case 'oci': {
      const { createOciProvider } = await import('./oci/index.js');
      return createOciProvider(registry, options);
    }
    case 'acr': {
      const { createAcrProvider } = await import('./acr/index.js');
      return createAcrProvider(registry, options);
    }
    case 'ecr': {
      const { createEcrProvider } = await import('./ecr/index.js');
      return createEcrProvider(registry, options);
    }
    default:
      return assertNever(registry);
  }
}

/**
 * Checks, before any registry call, that the environment holds every credential the config names
 * for these registries; throws the ConfigError naming the missing variable (never a value).
 */
export function checkCredentials(registries: readonly RegistryConfig[], env: NodeJS.ProcessEnv = process.env): void {
  for (const registry of registries) if (registry.provider === 'oci') readCredentials(registry, env);
}
