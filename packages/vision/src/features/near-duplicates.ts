/**
 * Near-duplicate search on 64-bit perceptual hashes (the preprocess stage's difference hash, 16 hex digits):
 * pure building blocks for an index that stays fast at millions of images, and for grouping a library.
 *
 * - Multi-index hashing (Norouzi et al. 2012): split each hash into m segments and index every segment value.
 *   Two hashes within Hamming distance r agree within floor(r / m) bits on at least one segment (pigeonhole), so
 *   a query looks up, per segment, every value within that radius (hashSegments, segmentProbes) and checks the
 *   candidates' full distance. With m = 4 segments of 16 bits and r <= 11 that is at most 4 x 137 lookups.
 * - A BK-tree (Burkhard-Keller) for in-memory radius search over a set of hashes.
 * - nearDuplicateGroups: connected groups of hashes within r of each other (single linkage), as photo
 *   libraries group bursts and re-saves.
 */
import { ImgpipeError } from '@imgpipe/core';

export const HASH_BITS = 64;

/** A 16-hex-digit hash as an unsigned 64-bit integer. */
export function parseHash(hex: string): bigint {
  if (!/^[0-9a-f]{16}$/i.test(hex))
    throw new ImgpipeError('REQUEST_INVALID', `'${hex}' is not a 64-bit hash in 16 hex digits`);
  return BigInt(`0x${hex}`);
}

export function hammingDistance64(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}

function checkSegments(segments: number): number {
  if (!Number.isInteger(segments) || segments < 1 || HASH_BITS % segments !== 0 || HASH_BITS / segments > 32) {
    throw new ImgpipeError(
      'REQUEST_INVALID',
      `segments must divide 64 into parts of at most 32 bits (got ${segments})`,
    );
  }
  return HASH_BITS / segments;
}

/** The hash's m segment values, most significant first (segment i holds bits [64 - (i+1)w, 64 - iw)). */
export function hashSegments(hash: bigint, segments = 4): number[] {
  const width = checkSegments(segments);
  const mask = (1n << BigInt(width)) - 1n;
  return Array.from({ length: segments }, (_, i) => Number((hash >> BigInt(HASH_BITS - (i + 1) * width)) & mask));
}

/**
 * Every (segment, value) a query for hashes within `maxDistance` of `hash` must look up: each segment's values
 * within floor(maxDistance / m) bits of the query's.
 */
export function segmentProbes(hash: bigint, maxDistance: number, segments = 4): { segment: number; value: number }[] {
  const width = checkSegments(segments);
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > HASH_BITS) {
    throw new ImgpipeError('REQUEST_INVALID', `maxDistance must be a whole number 0-64 (got ${maxDistance})`);
  }
  const radius = Math.floor(maxDistance / segments);
  const probes: { segment: number; value: number }[] = [];
  hashSegments(hash, segments).forEach((value, segment) => {
    for (const flipped of withinRadius(value, width, radius)) probes.push({ segment, value: flipped });
  });
  return probes;
}

/** Values of `width` bits within `radius` bit flips of `value` (value itself first). */
function withinRadius(value: number, width: number, radius: number): number[] {
  const out = [value];
  const flip = (from: number, start: number, left: number) => {
    if (left === 0) return;
    for (let bit = start; bit < width; bit++) {
      const next = (from ^ (2 ** bit)) >>> 0;
      out.push(next);
      flip(next, bit + 1, left - 1);
    }
  };
  flip(value, 0, Math.min(radius, width));
  return out;
}

interface BkNode<T> {
  hash: bigint;
  items: T[];
  children: Map<number, BkNode<T>>;
}

/** Radius search over 64-bit hashes by the triangle inequality on Hamming distance. */
export class BkTree<T> {
  #root: BkNode<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(hash: bigint, item: T): void {
    this.#size++;
    if (!this.#root) {
      this.#root = { hash, items: [item], children: new Map() };
      return;
    }
    let node = this.#root;
    for (;;) {
      const d = hammingDistance64(hash, node.hash);
      if (d === 0) {
        node.items.push(item);
        return;
      }
      const child = node.children.get(d);
      if (!child) {
        node.children.set(d, { hash, items: [item], children: new Map() });
        return;
      }
      node = child;
    }
  }

  /** Items whose hash is within maxDistance of `hash`, nearest first. */
  search(hash: bigint, maxDistance: number): { item: T; distance: number }[] {
    const found: { item: T; distance: number }[] = [];
    const stack = this.#root ? [this.#root] : [];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const d = hammingDistance64(hash, node.hash);
      if (d <= maxDistance) for (const item of node.items) found.push({ item, distance: d });
      for (const [edge, child] of node.children) if (Math.abs(edge - d) <= maxDistance) stack.push(child);
    }
    return found.sort((a, b) => a.distance - b.distance);
  }
}

/**
 * Groups of ids whose hashes chain within maxDistance of each other (single linkage), largest group first, each
 * group's ids sorted; ids with no near-duplicate are left out.
 */
export function nearDuplicateGroups(items: readonly { id: string; hash: string }[], maxDistance: number): string[][] {
  const tree = new BkTree<number>();
  const hashes = items.map((item) => parseHash(item.hash));
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[i] !== root) {
      const next = parent[i]!;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  hashes.forEach((hash, i) => {
    for (const { item: j } of tree.search(hash, maxDistance)) parent[find(i)] = find(j);
    tree.add(hash, i);
  });
  const groups = new Map<number, string[]>();
  items.forEach((item, i) => {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), item.id]);
  });
  return [...groups.values()]
    .filter((group) => group.length > 1)
    .map((group) => group.sort())
    .sort((a, b) => b.length - a.length || (a[0]! < b[0]! ? -1 : 1));
}
