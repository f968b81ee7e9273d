import { describe, expect, it } from 'vitest';
import { classifyHit, planSaves, type CacheToSave } from '../../src/cache/plan.js';

describe('classifyHit', () => {
  it.each([
    ['v1-opam-a-b', undefined, 'miss'],
    ['v1-opam-a-b', '', 'miss'],
    ['v1-opam-a-b', 'v1-opam-a-b', 'exact'],
    ['v1-opam-a-b', 'v1-opam-a-c', 'partial'],
    // A prefix match on the primary key is still another entry than the one asked for.
    ['v1-opam-a-b', 'v1-opam-a-b-older', 'partial'],
  ] as const)('key %s matched %s → %s', (key, matched, hit) => {
    expect(classifyHit(key, matched)).toBe(hit);
  });
});

const entry = (name: string, key: string, hit: CacheToSave['hit']): CacheToSave => ({
  name,
  paths: [`/cache/${name}`],
  key,
  hit,
});

describe('planSaves', () => {
  it.each([
    { hit: 'miss', mainSucceeded: true, saved: true },
    { hit: 'partial', mainSucceeded: true, saved: true },
    { hit: 'exact', mainSucceeded: true, saved: false },
    { hit: 'miss', mainSucceeded: false, saved: false },
    { hit: 'partial', mainSucceeded: false, saved: false },
    { hit: 'exact', mainSucceeded: false, saved: false },
  ] as const)('$hit hit, main succeeded: $mainSucceeded → saved: $saved', ({ hit, mainSucceeded, saved }) => {
    const plan = planSaves([entry('opam', 'k', hit)], mainSucceeded);
    expect(plan.save.map((c) => c.name)).toEqual(saved ? ['opam'] : []);
    expect(plan.skip.map((s) => s.cache.name)).toEqual(saved ? [] : ['opam']);
  });

  it('says why it skips', () => {
    expect(planSaves([entry('opam', 'k', 'miss')], false).skip[0]?.reason).toMatch(/main step did not succeed/);
    expect(planSaves([entry('opam', 'k', 'exact')], true).skip[0]?.reason).toMatch(/exact key k/);
  });

  it('saves each cache on its own and a key only once', () => {
    const plan = planSaves(
      [
        entry('opam', 'a', 'miss'),
        entry('duniverse', 'b', 'exact'),
        entry('dune', 'c', 'partial'),
        entry('again', 'a', 'miss'),
      ],
      true,
    );
    expect(plan.save.map((c) => c.name)).toEqual(['opam', 'dune']);
    expect(plan.skip.map((s) => s.cache.name)).toEqual(['duniverse', 'again']);
    expect(plan.skip[1]?.reason).toMatch(/same key a/);
  });
});
