/**
 * The JSON report (docs/design.md, "Report") as text a repository at a time.
 *
 * The pieces join to exactly `JSON.stringify(report, null, 2)`, but no piece holds more than one
 * repository: at a million images the whole text is over 300 MB, a second copy of the report in
 * memory, and not far below the longest string V8 can make (2^29 - 24 characters), past which
 * `JSON.stringify` throws after the run has done its work (issue 12, "Memory").
 */
import { randomUUID } from 'node:crypto';
import type { Report } from '../report/types.js';

const INDENT = 2;
/** What `reportJsonText` gathers before it hands a piece on: fewer, larger writes. */
const PIECE_BYTES = 256 * 1024;

/**
 * The JSON report as a file or stdout holds it (ending in a newline), in pieces of at least 256 KB
 * (the last may be shorter): each write costs a round trip, so a repository a piece would be slow.
 */
export function* reportJsonText(report: Report): Generator<string> {
  let gathered: string[] = [];
  let length = 0;
  for (const chunk of reportJsonChunks(report)) {
    gathered.push(chunk);
    length += chunk.length;
    if (length < PIECE_BYTES) continue;
    yield gathered.join('');
    gathered = [];
    length = 0;
  }
  gathered.push('\n');
  yield gathered.join('');
}

/** `JSON.stringify(report, null, 2)`, in pieces. */
export function* reportJsonChunks(report: Report): Generator<string> {
  // Each registry's repository list is left out of the shell and marked by a string no registry
  // message can hold (a fresh nonce per call); the lists are then written where the marks are.
  const nonce = randomUUID();
  const slots = new Map<unknown, number>();
  report.registries.forEach((registry, index) => {
    if (registry.repositories.length > 0) slots.set(registry.repositories, index);
  });
  const shell = JSON.stringify(
    report,
    (key, value: unknown) => {
      const slot = key === 'repositories' ? slots.get(value) : undefined;
      return slot === undefined ? value : `${nonce}:${slot}`;
    },
    INDENT,
  );
  const mark = new RegExp(`^( *)("repositories": )"${nonce}:(\\d+)"`, 'gm');
  let from = 0;
  for (const found of shell.matchAll(mark)) {
    const [text, indent = '', key = '', slot = ''] = found;
    yield shell.slice(from, found.index + indent.length + key.length);
    const inner = indent + ' '.repeat(INDENT);
    const repositories = report.registries[Number(slot)]!.repositories;
    yield '[\n';
    for (let index = 0; index < repositories.length; index++) {
      const text = JSON.stringify(repositories[index], null, INDENT);
      yield `${inner}${text.replaceAll('\n', `\n${inner}`)}${index < repositories.length - 1 ? ',\n' : '\n'}`;
    }
    yield `${indent}]`;
    from = found.index + text.length;
  }
  yield shell.slice(from);
}
