/** Where an ECR registry lives, read from the host users write in image names. */
import { ConfigError } from '../../errors.js';

export interface EcrRegistryLocation {
  /** The AWS account id, ECR's `registryId`. */
  readonly registryId: string;
  readonly region: string;
}

const REGISTRY_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com` → account and region. */
export function parseEcrRegistryHost(host: string): EcrRegistryLocation {
  const match = REGISTRY_HOST.exec(host.trim());
  if (!match) {
    throw new ConfigError(
      `ECR endpoint "${host}" is not a registry host; write it like 123456789012.dkr.ecr.eu-west-1.amazonaws.com`,
    );
  }
  return { registryId: match[1]!, region: match[2]! };
}
