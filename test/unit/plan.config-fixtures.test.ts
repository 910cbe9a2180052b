/**
 * Every config the project ships (README, docs, the demo) plans the same as it did before tag
 * classes existed: the digest below was taken from the planner before `tags:` was added to a rule.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../lib/config/load.js';
import { resolvePolicy } from '../../lib/config/policy.js';
import type { Image } from '../../lib/model.js';
import { plan } from '../../lib/plan/index.js';
import { HOUR_MS, NOW, image, inventory } from '../support/builders.js';

const SOURCES = ['README.md', 'docs/oci.md', 'docs/aws.md', 'docs/azure.md', 'docs/report.md', 'docs/retention.md'];

/** Every fenced YAML block of the project's docs that is a whole config, and the demo's config. */
function shippedConfigs(): Array<{ source: string; data: unknown }> {
  const found: Array<{ source: string; data: unknown }> = [];
  for (const source of SOURCES) {
    const text = readFileSync(source, 'utf8');
    for (const [index, block] of [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)].entries()) {
      const body = (block[1] ?? '').replace(/\$\{[A-Z_]+\}/g, 'https://registry.example.com');
      let data: unknown;
      try {
        data = parseYaml(body);
      } catch {
        continue; // a fragment, not a config
      }
      if (data !== null && typeof data === 'object' && 'version' in data)
        found.push({ source: `${source}#${index}`, data });
    }
  }
  const demo = readFileSync('scripts/demo-config.yaml', 'utf8').replaceAll('${ENDPOINT}', 'http://127.0.0.1:5000');
  found.push({ source: 'scripts/demo-config.yaml', data: parseYaml(demo) });
  return found;
}

/** A deterministic pseudo-random generator (mulberry32): the same repositories on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TAGS = ['latest', 'main', 'v1.2.3', '1.0.0', 'release-4', 'pr-12', 'b7', 'nightly', 'v2.0.0-rc.1', 'stable'];

function repositoryImages(seed: number): Image[] {
  const next = random(seed);
  const claimed = new Set<string>();
  return Array.from({ length: 30 }, (_, i) => {
    const tags = [TAGS[Math.floor(next() * TAGS.length)]!, `build-${i}`].filter(
      (tag) => next() < 0.7 && !claimed.has(tag),
    );
    for (const tag of tags) claimed.add(tag);
    const hoursAgo = Math.floor(next() * 24 * 90) - 3;
    return image({
      name: `r${seed}-${i}`,
      tags,
      pushedAt: next() < 0.05 ? null : new Date(NOW.getTime() - hoursAgo * HOUR_MS),
      pulledAt: next() < 0.5 ? new Date(NOW.getTime() - Math.floor(next() * 24 * 30) * HOUR_MS) : null,
      locked: next() < 0.05,
    });
  });
}

describe('shipped configs', () => {
  it('finds the configs of the README, the docs and the demo, and each is valid', () => {
    const configs = shippedConfigs();

    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const { source, data } of configs) expect(() => parseConfig(data, source)).not.toThrow();
  });

  it('plans every rule of every shipped config exactly as before tag classes', () => {
    const hash = createHash('sha256');

    for (const { source, data } of shippedConfigs()) {
      const config = parseConfig(data, source);
      for (const registry of config.registries) {
        for (const rule of registry.repositories) {
          for (let seed = 1; seed <= 8; seed++) {
            const result = plan(inventory(repositoryImages(seed)), resolvePolicy(config, rule), NOW);
            hash.update(JSON.stringify([source, rule.match, seed, result.keep, result.delete]));
          }
        }
      }
    }

    expect(hash.digest('hex')).toBe('e49b3609981b6e6add20cdc95c1ddac69d4fc12477dc26fa93b34f8cc4304f6d');
  });
});
