/**
 * A separate process for the local state store's cross-process race test: increments the counter
 * record `race/counter` in the directory argv[2], argv[3] times, by read-modify-write with CAS.
 */
import { LocalStateStore } from '../../lib/state/local.js';

const [directory, times] = process.argv.slice(2);
const store = new LocalStateStore(directory ?? '');
for (let done = 0; done < Number(times); ) {
  const current = await store.read('race/counter');
  const next = String(Number(new TextDecoder().decode(current?.value ?? new Uint8Array())) + 1);
  const write =
    current === null
      ? await store.create('race/counter', next)
      : await store.replace('race/counter', next, current.version);
  if (write.ok) done++;
}
