/** The one place a registry becomes a run-lock key. */
import type { RegistryConfig } from '../config/schema.js';

/**
 * The key of a registry's run lock. For now its config name; docs/design.md, "Run lock", makes it
 * the registry's endpoint (so two configs naming one registry differently exclude each other), and
 * only this function changes when it does.
 */
export function lockKeyFor(registry: RegistryConfig): string {
  return registry.name;
}
