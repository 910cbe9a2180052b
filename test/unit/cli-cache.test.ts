/** The CLI's inventory-cache flags: `--no-cache` on every run command, `--state` on plan too. */
import { describe, expect, it } from 'vitest';
import { parseInvocation } from '../../lib/cli/args.js';

describe('--no-cache and --state', () => {
  it.each(['plan', 'prune', 'report'])('%s accepts --no-cache and --state DIR', (command) => {
    const invocation = parseInvocation([command, '-c', 'regprune.yaml', '--no-cache', '--state', '/tmp/state']);

    expect(invocation).toMatchObject({ kind: 'run', command, noCache: true, statePath: '/tmp/state' });
  });

  it('uses the cache unless told not to', () => {
    const invocation = parseInvocation(['plan', '-c', 'regprune.yaml']);

    expect(invocation).toMatchObject({ kind: 'run', command: 'plan' });
    expect(invocation).not.toHaveProperty('noCache');
  });
});
