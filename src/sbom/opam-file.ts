/**
 * Just enough of the opam file format to read a lock file and a switch export: fields and
 * sections, strings, identifiers, lists, groups, `{ … }` option filters and operators. Values are
 * kept as a tree; the callers pick the fields they know. Anything else is a parse error naming the
 * line, since these files come from the build (untrusted) and must not be half read.
 */

export type OpamValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ident'; readonly value: string }
  | { readonly kind: 'op'; readonly value: string }
  | { readonly kind: 'list'; readonly items: readonly OpamValue[] }
  | { readonly kind: 'group'; readonly items: readonly OpamValue[] }
  /** A value with its `{ … }` filter; the filter's contents as a flat list of values. */
  | { readonly kind: 'option'; readonly value: OpamValue; readonly filter: readonly OpamValue[] }
  /** Values joined by binary operators, flat: `a & b | c` → [a, &, b, |, c]. */
  | { readonly kind: 'expr'; readonly items: readonly OpamValue[] };

export type OpamItem =
  | { readonly kind: 'field'; readonly name: string; readonly value: OpamValue }
  | {
      readonly kind: 'section';
      readonly name: string;
      readonly label?: string;
      readonly items: readonly OpamItem[];
    };

type Token =
  | { readonly t: 'string' | 'ident' | 'op'; readonly v: string; readonly line: number }
  | { readonly t: 'punct'; readonly v: '[' | ']' | '{' | '}' | '(' | ')' | ':'; readonly line: number };

export class OpamParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpamParseError';
  }
}

const OPERATORS = ['+=', '-=', ':=', '=+', '=:', '!=', '<=', '>=', '=', '<', '>', '&', '|', '!', '?'];
const IDENT = /[A-Za-z0-9_][A-Za-z0-9_+\-.:]*/y;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', '"': '"', '\\': '\\' };

// The one function over 60 lines on purpose: a tokenizer reads best as one loop over the text, one
// branch per kind of token; split, each piece would need the position and the token list back.
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const fail = (what: string): never => {
    throw new OpamParseError(`line ${line}: ${what}`);
  };
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('(*', i)) {
      const end = text.indexOf('*)', i + 2);
      if (end < 0) fail('unterminated comment');
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 2;
    } else if (c === '"') {
      const triple = text.startsWith('"""', i);
      const start = line;
      i += triple ? 3 : 1;
      let value = '';
      for (;;) {
        if (i >= text.length) fail(`unterminated string starting on line ${start}`);
        if (triple ? text.startsWith('"""', i) : text[i] === '"') break;
        const ch = text[i] ?? '';
        if (ch === '\\') {
          const next = text[i + 1] ?? '';
          if (next === '\n') {
            line++;
            i += 2;
            while (text[i] === ' ' || text[i] === '\t') i++;
            continue;
          }
          value += ESCAPES[next] ?? `\\${next}`;
          i += 2;
          continue;
        }
        if (ch === '\n') line++;
        value += ch;
        i++;
      }
      i += triple ? 3 : 1;
      tokens.push({ t: 'string', v: value, line: start });
    } else if ('[]{}():'.includes(c) && !(c === ':' && text[i + 1] === '=')) {
      tokens.push({ t: 'punct', v: c as '[', line });
      i++;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op !== undefined) {
        tokens.push({ t: 'op', v: op, line });
        i += op.length;
        continue;
      }
      IDENT.lastIndex = i;
      const ident = IDENT.exec(text);
      if (ident === null) fail(`unexpected character ${JSON.stringify(c)}`);
      // `name:` ends a field name: the colon is punctuation unless a variable like `pkg:var` follows.
      let word = ident?.[0] ?? '';
      if (word.endsWith(':')) word = word.slice(0, -1);
      tokens.push({ t: 'ident', v: word, line });
      i += word.length;
    }
  }
  return tokens;
}

const BINARY = new Set(['&', '|', '=', '!=', '<', '<=', '>', '>=']);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private fail(what: string): never {
    const at = this.peek();
    throw new OpamParseError(at === undefined ? `end of file: ${what}` : `line ${at.line}: ${what}`);
  }

  private expect(v: string): void {
    if (this.peek()?.v !== v) this.fail(`expected \`${v}\``);
    this.pos++;
  }

  items(closing?: '}'): OpamItem[] {
    const items: OpamItem[] = [];
    for (;;) {
      const token = this.peek();
      if (token === undefined) {
        if (closing !== undefined) this.fail('unclosed section');
        return items;
      }
      if (closing !== undefined && token.v === closing && token.t === 'punct') {
        this.pos++;
        return items;
      }
      if (token.t !== 'ident') this.fail(`expected a field name, found \`${token.v}\``);
      this.pos++;
      const next = this.peek();
      if (next?.t === 'punct' && next.v === ':') {
        this.pos++;
        items.push({ kind: 'field', name: token.v, value: this.value() });
      } else if (next?.t === 'string' && this.peek(1)?.v === '{') {
        this.pos += 2;
        items.push({ kind: 'section', name: token.v, label: next.v, items: this.items('}') });
      } else if (next?.v === '{') {
        this.pos++;
        items.push({ kind: 'section', name: token.v, items: this.items('}') });
      } else {
        this.fail(`expected \`:\` or \`{\` after \`${token.v}\``);
      }
    }
  }

  private sequence(closing: ']' | ')' | '}'): OpamValue[] {
    const values: OpamValue[] = [];
    while (this.peek()?.v !== closing) {
      if (this.peek() === undefined) this.fail(`expected \`${closing}\``);
      values.push(this.value());
    }
    this.pos++;
    return values;
  }

  private primary(): OpamValue {
    const token = this.peek();
    if (token === undefined) this.fail('expected a value');
    this.pos++;
    if (token.t === 'string' || token.t === 'ident') return { kind: token.t, value: token.v };
    if (token.t === 'op') {
      if (token.v === '!' || token.v === '?' || BINARY.has(token.v)) {
        // prefix: `!x`, `?x`, and version constraints such as `>= "1.0"`
        return { kind: 'expr', items: [{ kind: 'op', value: token.v }, this.primary()] };
      }
      this.fail(`unexpected \`${token.v}\``);
    }
    if (token.v === '[') return { kind: 'list', items: this.sequence(']') };
    if (token.v === '(') return { kind: 'group', items: this.sequence(')') };
    return this.fail(`unexpected \`${token.v}\``);
  }

  private withFilter(value: OpamValue): OpamValue {
    if (this.peek()?.v !== '{') return value;
    this.pos++;
    return { kind: 'option', value, filter: this.sequence('}') };
  }

  value(): OpamValue {
    const items: OpamValue[] = [this.withFilter(this.primary())];
    for (;;) {
      const token = this.peek();
      if (token?.t !== 'op' || !BINARY.has(token.v)) break;
      this.pos++;
      items.push({ kind: 'op', value: token.v }, this.withFilter(this.primary()));
    }
    return items.length === 1 ? (items[0] as OpamValue) : { kind: 'expr', items };
  }
}

/** The items of an opam file, in order. */
export function parseOpamFile(text: string): OpamItem[] {
  return new Parser(tokenize(text)).items();
}

/** The value of the top-level field `name`, if present. */
export function field(items: readonly OpamItem[], name: string): OpamValue | undefined {
  for (const item of items) if (item.kind === 'field' && item.name === name) return item.value;
  return undefined;
}

/** A list's items; a single value stands for a list of one, as opam reads it. */
export function listItems(value: OpamValue | undefined): readonly OpamValue[] {
  if (value === undefined) return [];
  return value.kind === 'list' ? value.items : [value];
}

export function stringValue(value: OpamValue | undefined): string | undefined {
  return value?.kind === 'string' ? value.value : undefined;
}
