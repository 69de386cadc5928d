import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseExif } from './exif.ts';

type Entry = { tag: number; type: 2 | 3 | 4 | 5; values: string | number[] };

/** A TIFF/EXIF block with IFD0 (+ an Exif and a GPS sub-IFD), written in either byte order. */
function buildExif(little: boolean, ifd0: Entry[], exif: Entry[], gps: Entry[]): Uint8Array {
  const buffer = new Uint8Array(4096);
  const view = new DataView(buffer.buffer);
  buffer.set(little ? [0x49, 0x49] : [0x4d, 0x4d]);
  view.setUint16(2, 42, little);
  view.setUint32(4, 8, little);
  let heap = 2048;
  const writeIfd = (at: number, entries: Entry[]) => {
    view.setUint16(at, entries.length, little);
    entries.forEach((entry, i) => {
      const position = at + 2 + i * 12;
      view.setUint16(position, entry.tag, little);
      view.setUint16(position + 2, entry.type, little);
      const bytes: number[] = [];
      if (entry.type === 2) for (const char of `${entry.values}\0`) bytes.push(char.charCodeAt(0));
      const count = entry.type === 2 ? bytes.length : (entry.values as number[]).length;
      view.setUint32(position + 4, count, little);
      const size = { 2: 1, 3: 2, 4: 4, 5: 8 }[entry.type] * count;
      const target = size <= 4 ? position + 8 : heap;
      if (size > 4) {
        view.setUint32(position + 8, heap, little);
        heap += size + (size % 2);
      }
      if (entry.type === 2) buffer.set(bytes, target);
      else
        (entry.values as number[]).forEach((value, k) => {
          if (entry.type === 3) view.setUint16(target + k * 2, value, little);
          if (entry.type === 4) view.setUint32(target + k * 4, value, little);
          if (entry.type === 5) {
            view.setUint32(target + k * 8, Math.round(value * 1000), little);
            view.setUint32(target + k * 8 + 4, 1000, little);
          }
        });
    });
  };
  writeIfd(8, [...ifd0, { tag: 0x8769, type: 4, values: [600] }, { tag: 0x8825, type: 4, values: [1200] }]);
  writeIfd(600, exif);
  writeIfd(1200, gps);
  return Uint8Array.from([...Buffer.from('Exif\0\0', 'latin1'), ...buffer]);
}

const ifd0: Entry[] = [
  { tag: 0x010f, type: 2, values: 'NIKON CORPORATION' },
  { tag: 0x0110, type: 2, values: 'NIKON D750' },
  { tag: 0x0112, type: 3, values: [8] },
];
const exifIfd: Entry[] = [
  { tag: 0x9003, type: 2, values: '2021:07:04 09:15:00' },
  { tag: 0x9011, type: 2, values: '+02:00' },
];
const gps: Entry[] = [
  { tag: 0x0001, type: 2, values: 'S' },
  { tag: 0x0002, type: 5, values: [33, 51, 54.5] },
  { tag: 0x0003, type: 2, values: 'E' },
  { tag: 0x0004, type: 5, values: [151, 12, 36] },
];

describe('parseExif', () => {
  for (const little of [true, false]) {
    test(`reads make, model, orientation, time and GPS (${little ? 'little' : 'big'}-endian)`, () => {
      const exif = buildExif(little, ifd0, exifIfd, gps);
      assert.deepEqual(parseExif(exif, { keepGps: true }), {
        make: 'NIKON CORPORATION',
        model: 'NIKON D750',
        orientation: 8,
        takenAt: '2021-07-04T09:15:00+02:00',
        hasGps: true,
        gps: { latitude: -33.8651389, longitude: 151.21 },
      });
    });
  }

  test('GPS coordinates are left out unless configured', () => {
    const summary = parseExif(buildExif(true, ifd0, exifIfd, gps));
    assert.equal(summary.hasGps, true);
    assert.equal(summary.gps, undefined);
  });

  test('no GPS IFD coordinates means hasGps false', () => {
    assert.equal(parseExif(buildExif(true, ifd0, exifIfd, [{ tag: 0x0001, type: 2, values: 'N' }])).hasGps, false);
  });

  test('garbage, empty and out-of-range offsets never throw', () => {
    assert.deepEqual(parseExif(undefined), { hasGps: false });
    assert.deepEqual(parseExif(Uint8Array.from([1, 2, 3])), { hasGps: false });
    for (let seed = 1; seed < 200; seed++) {
      const random = new Uint8Array(256).map((_, i) => (seed * 7919 + i * 104729) % 251);
      random.set([0x49, 0x49, 42, 0], 0);
      assert.equal(typeof parseExif(random).hasGps, 'boolean');
    }
    const broken = buildExif(true, ifd0, exifIfd, gps);
    new DataView(broken.buffer).setUint32(6 + 8 + 2 + 8, 0xfffffff0, true); // Make's offset points past the end
    assert.equal(parseExif(broken).make, undefined);
    assert.equal(parseExif(broken).model, 'NIKON D750');
  });
});
