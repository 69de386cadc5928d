import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BkTree,
  hammingDistance64,
  hashSegments,
  nearDuplicateGroups,
  parseHash,
  segmentProbes,
} from './near-duplicates.ts';

function randomHashes(n: number, seed: number): bigint[] {
  let s = BigInt(seed);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffff_ffff_ffff_ffffn;
    out.push(s);
  }
  return out;
}

/** A copy of h with `flips` distinct bits flipped (deterministic). */
function near(h: bigint, flips: number, seed: number): bigint {
  let x = h;
  for (let i = 0; i < flips; i++) x ^= 1n << BigInt((seed * 13 + i * 7) % 64);
  return x;
}

describe('near-duplicate primitives', () => {
  test('hashes parse from 16 hex digits; distances count differing bits', () => {
    assert.equal(parseHash('ffffffffffffffff'), 0xffff_ffff_ffff_ffffn);
    assert.equal(hammingDistance64(0n, 0xffn), 8);
    assert.equal(hammingDistance64(parseHash('8000000000000001'), 0n), 2);
    assert.throws(() => parseHash('xyz'), /16 hex digits/);
    assert.deepEqual(hashSegments(parseHash('0123456789abcdef')), [0x0123, 0x4567, 0x89ab, 0xcdef]);
  });

  test('multi-index probes find every hash within the radius that a full scan finds', () => {
    const stored = randomHashes(3000, 5);
    const queries = randomHashes(40, 9).concat(stored.slice(0, 40).map((h, i) => near(h, i % 12, i)));
    const index = new Map<string, bigint[]>();
    for (const h of stored)
      hashSegments(h).forEach((value, segment) => {
        const key = `${segment}:${value}`;
        index.set(key, [...(index.get(key) ?? []), h]);
      });
    for (const maxDistance of [0, 3, 8, 10]) {
      for (const q of queries) {
        const viaIndex = new Set<bigint>();
        for (const probe of segmentProbes(q, maxDistance))
          for (const h of index.get(`${probe.segment}:${probe.value}`) ?? [])
            if (hammingDistance64(h, q) <= maxDistance) viaIndex.add(h);
        const scan = new Set(stored.filter((h) => hammingDistance64(h, q) <= maxDistance));
        assert.deepEqual(viaIndex, scan, `maxDistance ${maxDistance}`);
      }
    }
    assert.equal(segmentProbes(0n, 10).length, 4 * (1 + 16 + 120), '137 probes per 16-bit segment at radius 2');
  });

  test('the BK-tree answers radius queries exactly like a full scan, nearest first', () => {
    const stored = randomHashes(2000, 3).concat(randomHashes(50, 3).map((h, i) => near(h, 1 + (i % 6), i)));
    const tree = new BkTree<number>();
    for (const [i, h] of stored.entries()) tree.add(h, i);
    assert.equal(tree.size, stored.length);
    for (const q of stored.slice(0, 60)) {
      const found = tree.search(q, 6);
      const scan = stored.flatMap((h, i) => (hammingDistance64(h, q) <= 6 ? [i] : []));
      assert.deepEqual(
        found.map((f) => f.item).sort((a, b) => a - b),
        scan,
      );
      assert.deepEqual(
        found.map((f) => f.distance),
        [...found.map((f) => f.distance)].sort((a, b) => a - b),
      );
    }
  });

  test('groups chain near-duplicates and leave singletons out', () => {
    const base = parseHash('00ff00ff00ff00ff');
    const hex = (h: bigint) => h.toString(16).padStart(16, '0');
    const items = [
      { id: 'a', hash: hex(base) },
      { id: 'b', hash: hex(near(base, 4, 1)) }, // 4 from a
      { id: 'c', hash: hex(near(near(base, 4, 1), 4, 2)) }, // 4 from b, up to 8 from a
      { id: 'z', hash: hex(~base & 0xffff_ffff_ffff_ffffn) }, // far from all
      { id: 'y', hash: 'ffffffff00000000' },
      { id: 'x', hash: 'ffffffff00000001' },
    ];
    assert.deepEqual(nearDuplicateGroups(items, 4), [
      ['a', 'b', 'c'],
      ['x', 'y'],
    ]);
    assert.deepEqual(nearDuplicateGroups(items, 0), []);
  });
});
