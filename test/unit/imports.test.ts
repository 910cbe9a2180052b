/**
 * The import structure (docs/design.md, "Seams"): no module of lib/ or functions/ reaches itself
 * through its imports (type-only and lazy `import()` included: a type cycle is still a knot a
 * reader has to untie), and the planner imports nothing from providers, execute, state or a host.
 * TypeScript's own `preProcessFile` reads the specifiers, so no new dependency is needed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Module (path relative to the repository) → the modules of lib/ and functions/ it imports. */
function importGraph(): Map<string, string[]> {
  const files = [...sourceFiles(join(ROOT, 'lib')), ...sourceFiles(join(ROOT, 'functions'))];
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
      .filter((target) => known.has(target));
    graph.set(
      relative(ROOT, file),
      targets.map((target) => relative(ROOT, target)),
    );
  }
  return graph;
}

/** Every import cycle, each as the modules along it (one per strongly connected component). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('import structure', () => {
  it('has no import cycle in lib/ or functions/', () => {
    expect(cycles(importGraph())).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);

    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('keeps the planner free of providers, execute, state and the hosts', () => {
    const forbidden = /^(lib\/(providers|execute|state|lock|history|cli|run)\/|functions\/|lib\/prune\.ts$)/;

    const offending = [...importGraph()]
      .filter(([module]) => module.startsWith('lib/plan/'))
      .flatMap(([module, imports]) =>
        imports.filter((target) => forbidden.test(target)).map((t) => `${module} → ${t}`),
      );

    expect(offending).toEqual([]);
  });
});
