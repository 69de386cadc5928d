/**
 * 64-bit difference hash from a 9x8 grey image: bit = left pixel brighter than its right neighbour, rows top to
 * bottom, most significant bit first, as 16 hex digits. Hamming distance <= 10 suggests a near-duplicate.
 */
export const DHASH_WIDTH = 9;
export const DHASH_HEIGHT = 8;

export function differenceHash(grey9x8: Uint8Array): string {
  let hex = '';
  let nibble = 0;
  let bits = 0;
  for (let y = 0; y < DHASH_HEIGHT; y++) {
    for (let x = 0; x < DHASH_WIDTH - 1; x++) {
      const left = grey9x8[y * DHASH_WIDTH + x]!;
      const right = grey9x8[y * DHASH_WIDTH + x + 1]!;
      nibble = (nibble << 1) | (left > right ? 1 : 0);
      if (++bits === 4) {
        hex += nibble.toString(16);
        nibble = 0;
        bits = 0;
      }
    }
  }
  return hex;
}

export function hammingDistance(a: string, b: string): number {
  let distance = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    let x = Number.parseInt(a[i] ?? '0', 16) ^ Number.parseInt(b[i] ?? '0', 16);
    while (x) {
      distance += x & 1;
      x >>= 1;
    }
  }
  return distance;
}
