import { describe, expect, it } from 'vitest';
import {
  chooseComment,
  commentBody,
  inert,
  MAX_PACKAGE_ROWS,
  parsePreview,
  settleCreated,
  previewMarker,
  type Preview,
} from '../../src/preview/plan.js';

const SHA = '1111111111111111111111111111111111111111';
const PREVIOUS = '0123456789abcdef0123456789abcdef01234567';

function preview(overrides: Partial<Preview> = {}): Preview {
  return {
    schema: 1,
    pullRequest: 42,
    headSha: SHA,
    directory: 'xen',
    image: 'hello',
    size: 1100,
    sha256: 'a'.repeat(64),
    diff: {
      first: false,
      previous: PREVIOUS,
      size: { before: 1000, after: 1100, change: 100, percent: 10 },
      packages: { added: [{ name: 'ptime', version: '1.0.0' }], removed: [], upgraded: [], downgraded: [] },
      versions: {},
    },
    ...overrides,
  };
}

/** The body with every code span removed: what GitHub renders as markdown. */
const outsideCode = (body: string) => body.replace(/`[^`\n]*`/g, '');

describe('inert', () => {
  it('puts a name in a code span, without mentions, backticks, pipes or line breaks', () => {
    expect(inert('@someone')).toBe('`＠someone`');
    expect(inert('a`b|c\nd')).toBe("`a'b¦c d`");
    expect(inert('[x](https://evil.example)')).toBe('`[x](https://evil.example)`');
    expect(inert('x'.repeat(500))).toHaveLength(82);
  });
});

describe('commentBody', () => {
  it('starts with the marker and shows the size change in % and the changed packages', () => {
    const body = commentBody(preview());
    expect(body.startsWith(`${previewMarker('xen', 'hello')}\n`)).toBe(true);
    expect(body).toContain('1000 → 1100 bytes, +100 bytes (**+10 %**)');
    expect(body).toContain('| added | `ptime` | `1.0.0` |');
    expect(body).toContain('Boot test: not run.');
  });

  it('shows hostile package names inert: no mention, no link, no HTML outside code spans', () => {
    const hostile = ['@someone', '[click](https://evil.example)', '<img src=x onerror=alert(1)>', '**bold**', '`x` @a'];
    const body = commentBody(
      preview({
        diff: {
          first: false,
          previous: PREVIOUS,
          versions: {},
          packages: {
            added: hostile.map((name) => ({ name, version: '1' })),
            removed: [],
            upgraded: [{ name: '@other', from: '@1', to: '](javascript:x)' }],
            downgraded: [],
          },
        },
      }),
    );
    const rendered = outsideCode(body.split('\n').slice(1).join('\n'));
    expect(rendered).not.toMatch(/@|\]\(|<img|\*\*bold/);
    expect(body).not.toContain('@');
  });

  it('caps the package rows and counts the rest', () => {
    const added = Array.from({ length: MAX_PACKAGE_ROWS + 15 }, (_, i) => ({ name: `p${i}`, version: '1' }));
    const body = commentBody(
      preview({
        diff: {
          first: false,
          previous: PREVIOUS,
          versions: {},
          packages: { added, removed: [], upgraded: [], downgraded: [] },
        },
      }),
    );
    expect(body.split('\n').filter((l) => l.startsWith('| added |'))).toHaveLength(MAX_PACKAGE_ROWS);
    expect(body).toContain('… and 15 more, not shown.');
  });

  it('says a first deploy and a boot test verdict', () => {
    const body = commentBody(preview({ diff: { first: true }, bootTest: { passed: false, detail: 'no output' } }));
    expect(body).toContain('this would be the first deploy');
    expect(body).toContain('Boot test: **failed** (`no output`).');
  });
});

describe('chooseComment', () => {
  const marker = previewMarker('xen', 'hello');
  it('updates the oldest bot comment starting with the marker, and no one else’s', () => {
    expect(
      chooseComment(
        [
          { id: 1, body: `${marker}\nquoted by a person`, user: { type: 'User' } },
          { id: 2, body: `text\n${marker}\n`, user: { type: 'Bot' } },
          { id: 3, body: `${previewMarker('xen', 'other')}\n`, user: { type: 'Bot' } },
          { id: 4, body: `${marker}\nold`, user: { type: 'Bot' } },
          { id: 5, body: `${marker}\nnewer`, user: { type: 'Bot' } },
        ],
        marker,
      ),
    ).toEqual({ kind: 'update', id: 4 });
  });
  it('creates when none carries the marker', () => {
    expect(chooseComment([{ id: 1, body: null, user: null }], marker)).toEqual({ kind: 'create' });
  });
});

describe('settleCreated', () => {
  const marker = previewMarker('xen', 'hello');
  const bot = (id: number) => ({ id, body: `${marker}\n`, user: { type: 'Bot' } });
  it('keeps ours when it is the oldest, and merges into the oldest otherwise', () => {
    expect(settleCreated([bot(1), bot(2)], marker, 1)).toEqual({ kind: 'keep' });
    expect(settleCreated([bot(1), bot(2)], marker, 2)).toEqual({ kind: 'merge', into: 1 });
    expect(settleCreated([bot(2)], marker, 2)).toEqual({ kind: 'keep' });
  });
});

describe('parsePreview', () => {
  it('takes a preview file back', () => {
    expect(parsePreview(JSON.stringify(preview()))).toEqual({ preview: preview() });
  });
  it.each([
    ['not JSON', '{', /not JSON/],
    ['a bad number', JSON.stringify({ ...preview(), pullRequest: 0 }), /pullRequest/],
    ['a folder with a marker end', JSON.stringify({ ...preview(), directory: 'xen -->' }), /directory/],
    ['an image path', JSON.stringify({ ...preview(), image: '../x' }), /image/],
    ['a bad sha', JSON.stringify({ ...preview(), headSha: 'main' }), /headSha/],
    [
      'bad packages',
      JSON.stringify({ ...preview(), diff: { ...preview().diff, packages: { added: [1] } } }),
      /packages/,
    ],
  ])('refuses %s', (_what, text, problem) => {
    const parsed = parsePreview(text);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });
});
