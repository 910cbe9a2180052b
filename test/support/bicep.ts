/**
 * A small Bicep reader for infra tests (no Bicep compiler is reachable here). It reads top-level
 * `param`, `var`, `resource`, `module` and `output` declarations and their object/array literals.
 *
 * Limits, on purpose: values that are expressions (function calls, property access, operators,
 * interpolated strings) are kept as their source text in `{ expr }`; nothing is evaluated except
 * what a test resolves by hand; `[for x in y: …]` becomes `{ for: { item, source }, body }`;
 * `if (…)` on a resource becomes `condition`; multi-line strings (''' … '''), `import`, `type`,
 * `func` and `metadata` are not supported and throw, so an unsupported file fails loudly rather
 * than being read wrong.
 */

export type BicepValue =
  | string
  | number
  | boolean
  | null
  | BicepValue[]
  | { [key: string]: BicepValue }
  | BicepExpr
  | BicepFor;
export interface BicepExpr {
  readonly expr: string;
}
export interface BicepFor {
  readonly for: { readonly item: string; readonly source: string };
  readonly body: BicepValue;
}

export interface BicepDeclaration {
  readonly kind: 'param' | 'var' | 'resource' | 'module' | 'output' | 'targetScope';
  readonly name: string;
  /** param/output: the type; resource: `Type@api-version`; module: the path. */
  readonly type?: string;
  readonly existing?: boolean;
  readonly condition?: string;
  readonly value?: BicepValue;
  /** `@name(args)` decorators, args as source text. */
  readonly decorators: Record<string, string>;
}

type Token = { kind: 'string' | 'ident' | 'number' | 'punct' | 'newline'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n') {
      tokens.push({ kind: 'newline', text: '\n' });
      i++;
    } else if (/\s/.test(ch)) {
      i++;
    } else if (source.startsWith('//', i)) {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new Error('bicep: unterminated /* comment');
      i = end + 2;
    } else if (source.startsWith("'''", i)) {
      throw new Error('bicep: multi-line strings are not supported by this reader');
    } else if (ch === "'") {
      let text = '';
      let depth = 0;
      i++;
      while (i < source.length) {
        const c = source[i]!;
        if (c === '\\') {
          text += source[i + 1] ?? '';
          i += 2;
          continue;
        }
        if (depth === 0 && c === "'") break;
        if (source.startsWith('${', i)) {
          depth++;
          text += '${';
          i += 2;
          continue;
        }
        if (depth > 0 && c === '}') depth--;
        if (depth > 0 && c === "'") {
          // a quoted string inside an interpolation: copy it whole
          const end = source.indexOf("'", i + 1);
          text += source.slice(i, end + 1);
          i = end + 1;
          continue;
        }
        text += c;
        i++;
      }
      if (source[i] !== "'") throw new Error('bicep: unterminated string');
      i++;
      tokens.push({ kind: 'string', text });
    } else if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))!;
      tokens.push({ kind: 'ident', text: match[0] });
      i += match[0].length;
    } else if (/\d/.test(ch)) {
      const match = /^\d+(\.\d+)?/.exec(source.slice(i))!;
      tokens.push({ kind: 'number', text: match[0] });
      i += match[0].length;
    } else {
      const two = source.slice(i, i + 2);
      const text = ['==', '!=', '>=', '<=', '&&', '||', '??', '.?', '=~', '!~'].includes(two) ? two : ch;
      tokens.push({ kind: 'punct', text });
      i += text.length;
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }
  private next(): Token {
    const token = this.tokens[this.pos++];
    if (!token) throw new Error('bicep: unexpected end of file');
    return token;
  }
  private skipNewlines(): void {
    while (this.peek()?.kind === 'newline') this.pos++;
  }
  private expect(text: string): void {
    const token = this.next();
    if (token.text !== text) throw new Error(`bicep: expected "${text}", got "${token.text}"`);
  }

  /** Source text of tokens up to a newline, `,`, or an unmatched closing bracket. */
  private rawExpression(stopAtColon = false): string {
    let depth = 0;
    const parts: string[] = [];
    while (this.peek()) {
      const token = this.peek()!;
      if (depth === 0 && (token.kind === 'newline' || token.text === ',' || (stopAtColon && token.text === ':'))) break;
      if (['(', '[', '{'].includes(token.text)) depth++;
      if ([')', ']', '}'].includes(token.text)) {
        if (depth === 0) break;
        depth--;
      }
      if (token.kind === 'newline') {
        this.pos++;
        continue;
      }
      parts.push(token.kind === 'string' ? `'${token.text}'` : token.text);
      this.pos++;
    }
    return parts.join(' ').replace(/ ?([.(),[\]]) ?/g, '$1');
  }

  value(): BicepValue {
    const token = this.peek();
    if (!token) throw new Error('bicep: expected a value');
    const after = this.peek(1);
    const endsHere = !after || after.kind === 'newline' || [',', '}', ']'].includes(after.text);
    if (token.text === '{') return this.object();
    if (token.text === '[') return this.array();
    if (endsHere && token.kind === 'string') return this.next().text;
    if (endsHere && token.kind === 'number') return Number(this.next().text);
    if (endsHere && (token.text === 'true' || token.text === 'false')) return this.next().text === 'true';
    if (endsHere && token.text === 'null') {
      this.next();
      return null;
    }
    return { expr: this.rawExpression() };
  }

  private object(): { [key: string]: BicepValue } {
    this.expect('{');
    const out: { [key: string]: BicepValue } = {};
    for (;;) {
      this.skipNewlines();
      if (this.peek()?.text === ',') {
        this.pos++;
        continue;
      }
      if (this.peek()?.text === '}') {
        this.pos++;
        return out;
      }
      const key = this.next();
      if (key.kind !== 'ident' && key.kind !== 'string') throw new Error(`bicep: bad object key "${key.text}"`);
      this.expect(':');
      out[key.text] = this.value();
    }
  }

  private array(): BicepValue[] | BicepFor {
    this.expect('[');
    this.skipNewlines();
    if (this.peek()?.text === 'for') {
      this.next();
      const item = this.next().text;
      this.expect('in');
      const source = this.rawExpression(true);
      this.expect(':');
      this.skipNewlines();
      const body = this.value();
      this.skipNewlines();
      this.expect(']');
      return { for: { item, source }, body };
    }
    const items: BicepValue[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek()?.text === ',') {
        this.pos++;
        continue;
      }
      if (this.peek()?.text === ']') {
        this.pos++;
        return items;
      }
      items.push(this.value());
    }
  }

  declarations(): BicepDeclaration[] {
    const out: BicepDeclaration[] = [];
    let decorators: Record<string, string> = {};
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (!token) return out;
      if (token.text === '@') {
        this.next();
        const name = this.next().text;
        this.expect('(');
        const args = this.rawExpression();
        this.expect(')');
        decorators[name] = args;
        continue;
      }
      const keyword = this.next().text;
      if (keyword === 'targetScope') {
        this.expect('=');
        out.push({ kind: 'targetScope', name: 'targetScope', value: this.value(), decorators });
      } else if (keyword === 'param' || keyword === 'output') {
        const name = this.next().text;
        const type = this.next().text;
        let value: BicepValue | undefined;
        if (this.peek()?.text === '=') {
          this.next();
          value = this.value();
        }
        out.push({ kind: keyword, name, type, value, decorators });
      } else if (keyword === 'var') {
        const name = this.next().text;
        this.expect('=');
        out.push({ kind: 'var', name, value: this.value(), decorators });
      } else if (keyword === 'resource' || keyword === 'module') {
        const name = this.next().text;
        const type = this.next().text;
        const existing = this.peek()?.text === 'existing';
        if (existing) this.next();
        this.expect('=');
        let condition: string | undefined;
        if (this.peek()?.text === 'if') {
          this.next();
          this.expect('(');
          condition = this.rawExpression();
          this.expect(')');
        }
        out.push({ kind: keyword, name, type, existing, condition, value: this.value(), decorators });
      } else {
        throw new Error(`bicep: "${keyword}" declarations are not supported by this reader`);
      }
      decorators = {};
    }
  }
}

/** The top-level declarations of a Bicep file. */
export function parseBicep(source: string): BicepDeclaration[] {
  return new Parser(tokenize(source)).declarations();
}

/** Follows a dotted path through parsed objects (`properties.siteConfig.appSettings`). */
export function at(value: BicepValue | undefined, path: string): BicepValue | undefined {
  let current: BicepValue | undefined = value;
  for (const key of path.split('.')) {
    if (
      current === null ||
      typeof current !== 'object' ||
      Array.isArray(current) ||
      'expr' in current ||
      'for' in current
    )
      return undefined;
    current = (current as { [key: string]: BicepValue })[key];
  }
  return current;
}
