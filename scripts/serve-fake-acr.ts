/**
 * Starts the test suite's fake ACR (test/support/fake-acr.ts) with a few images and prints where it
 * listens, for scripts/check-acr-fake-python.sh: `{"endpoint", "caFile", "token"}` on one line, then
 * serves until stdin closes. Loopback only.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_AAD_TOKEN, FakeAcr } from '../test/support/fake-acr.js';

const fake = await FakeAcr.start();
const day = 86_400_000;
const now = Date.now();
const c1 = fake.push('python/app', { updatedAt: new Date(now - 9 * day), architecture: 'amd64' });
const c2 = fake.push('python/app', { updatedAt: new Date(now - 9 * day), architecture: 'arm64' });
fake.push('python/app', { kind: 'index', tags: ['v1'], children: [c1, c2], updatedAt: new Date(now - 9 * day) });
fake.push('python/app', { tags: ['v2'], updatedAt: new Date(now - 5 * day), writeEnabled: false });
fake.push('python/app', { tags: ['v3', 'old'], updatedAt: new Date(now - 2 * day) });
fake.lockTag('python/app', 'old', { deleteEnabled: false });
for (let i = 0; i < 5; i++) fake.push(`python/repo${i}`, { tags: ['x'], updatedAt: new Date(now - day) });
fake.maxPageSize = 2;
const caFile = join(tmpdir(), `fake-acr-ca-${process.pid}.pem`);
writeFileSync(caFile, fake.ca);
process.stdout.write(`${JSON.stringify({ endpoint: fake.endpoint, caFile, token: FAKE_AAD_TOKEN })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  rmSync(caFile, { force: true });
  void fake.close().then(() => process.exit(0));
});
