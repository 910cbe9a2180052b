/**
 * A registry that requires basic auth (docker-registry 2.8 with htpasswd): regprune reads the
 * credentials from the environment variables the config names, prunes with them, and with a wrong
 * password fails clearly, deletes nothing and never prints the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryReader } from '../support/pull.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import {
  basicAuth,
  daysBefore,
  makeLayer,
  pushBuildHistory,
  RegistryPusher,
  type PushedImage,
} from '../support/seed.js';
import {
  SETUP_TIMEOUT_MS,
  e2eSkipReason,
  parseReport,
  runCli,
  tempDir,
  writeConfig,
  type CliResult,
} from './harness.js';

const skipReason = e2eSkipReason();
// A throwaway account for a loopback registry that lives for this test only. bcrypt cost 4 keeps
// the registry's per-request password check cheap on 2 cores.
const USERNAME = 'ci-pruner';
const PASSWORD = 'e2e-only-not-a-secret';
const HTPASSWD = `${USERNAME}:$2b$04$6xKEX9.iMP3Y/qQGTo7j/O13icVzzKrIJXvMzGh7yS4MSnTV40WWa\n`;
const WRONG_PASSWORD = 'wrong-e2e-password';

describe.skipIf(skipReason !== null)('pruning a registry that requires basic auth', () => {
  let registry: RunningRegistry;
  let configDir: { dir: string; cleanup: () => Promise<void> };
  let reader: RegistryReader;
  let builds: PushedImage[];
  let before: Record<string, string>;
  let afterWrongPassword: Record<string, string>;
  let wrongPasswordRun: CliResult;
  let run: CliResult;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: HTPASSWD });
    configDir = await tempDir();
    const authorization = basicAuth(USERNAME, PASSWORD);
    reader = new RegistryReader(registry.url, { authorization });
    const now = new Date();
    builds = await pushBuildHistory(new RegistryPusher(registry.url, 4, { authorization }), 'team/app', {
      builds: 5,
      firstCreated: daysBefore(now, 20),
      lastCreated: daysBefore(now, 4),
      baseLayers: [makeLayer('auth base', 2048)],
    });
    before = await reader.snapshot('team/app');
    const configPath = await writeConfig(configDir.dir, 'regprune.json', {
      version: 1,
      dryRun: false,
      defaults: { minAge: '1d' },
      registries: [
        {
          name: 'private',
          provider: 'oci',
          endpoint: registry.url,
          auth: { usernameEnv: 'E2E_REGISTRY_USER', passwordEnv: 'E2E_REGISTRY_PASSWORD' },
          repositories: [{ match: 'team/**', keep: 3 }],
        },
      ],
    });
    wrongPasswordRun = await runCli(['prune', '--config', configPath], {
      E2E_REGISTRY_USER: USERNAME,
      E2E_REGISTRY_PASSWORD: WRONG_PASSWORD,
    });
    afterWrongPassword = await reader.snapshot('team/app');
    run = await runCli(['prune', '--config', configPath, '--json'], {
      E2E_REGISTRY_USER: USERNAME,
      E2E_REGISTRY_PASSWORD: PASSWORD,
    });
    await registry.garbageCollect();
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.dispose();
    await configDir?.cleanup();
  });

  it('prunes with the credentials named in the config, and the kept builds still pull', async () => {
    const report = parseReport(run);

    expect(run.code).toBe(0);
    expect(report.totals.deleted).toBe(2);
    expect(await reader.tags('team/app')).toEqual(['b3', 'b4', 'b5']);
    for (const image of builds.slice(2))
      expect((await reader.pull('team/app', image.tags[0]!)).digest).toBe(image.digest);
    for (const image of builds.slice(0, 2)) expect(await reader.resolve('team/app', image.digest)).toBeNull();
  });

  it('exits 1 on a wrong password, deletes nothing, and never prints a password', () => {
    const output = wrongPasswordRun.stdout + wrongPasswordRun.stderr;

    expect(wrongPasswordRun.code).toBe(1);
    expect(afterWrongPassword).toEqual(before);
    expect(wrongPasswordRun.stderr).toMatch(/auth|credential|401|denied|unauthori/i);
    // The error names the registry once, not once per layer that passed it on.
    expect(wrongPasswordRun.stderr.match(/registry "\w+" \(http/g)).toHaveLength(1);
    expect(output).not.toContain(WRONG_PASSWORD);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });
});
