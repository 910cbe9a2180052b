/** What an importer produces: config data, and a note for each thing it could not say exactly. */
import { Document, isMap, isNode, isScalar, type Node } from 'yaml';

/** A comment on the generated YAML: on the node at `path`, or at the top (`[]`). */
export interface ImportNote {
  readonly path: readonly (string | number)[];
  readonly text: string;
  /** True when the source said something the config cannot express exactly (also warned on stderr). */
  readonly inexact: boolean;
}

export interface ImportResult {
  /** The config, as a plain object `parseConfig` validates. */
  readonly data: Record<string, unknown>;
  readonly notes: readonly ImportNote[];
}

/** The node a comment goes above: a map entry's key (so the comment precedes `key: value`), else the node. */
function commentTarget(document: Document, path: readonly (string | number)[]): Node | null {
  const parent = document.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
    if (pair && isNode(pair.key)) return pair.key;
  }
  const node = document.getIn(path, true);
  return isNode(node) ? node : null;
}

/** The config as YAML, each note as a comment above the node it is about. */
export function importYaml(result: ImportResult, header: string): string {
  const document = new Document(result.data);
  const top: string[] = [header];
  for (const note of result.notes) {
    const node = note.path.length === 0 ? null : commentTarget(document, note.path);
    const text = ` ${note.inexact ? 'NOT EXACT: ' : ''}${note.text}`;
    if (isNode(node)) node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${text}` : text;
    else top.push(text);
  }
  document.commentBefore = top.map((line) => (line.startsWith(' ') ? line : ` ${line}`)).join('\n');
  return document.toString({ lineWidth: 0 });
}
