/**
 * A separate process for the dead-holder takeover test: takes the run lock `argv[3]` on the local
 * state store in directory `argv[2]`, says `held` on stdout, and waits to be killed.
 */
import { StateLeaseLock } from '../../lib/lock/state-lease.js';
import { LocalStateStore } from '../../lib/state/local.js';

const [directory, key] = process.argv.slice(2);
const handle = await new StateLeaseLock({ store: new LocalStateStore(directory ?? ''), renewMs: 0 }).acquire(key ?? '');
process.stdout.write(handle ? 'held\n' : 'busy\n');
setInterval(() => {}, 60_000);
