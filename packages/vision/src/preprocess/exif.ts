/**
 * A small EXIF reader for the summary users see: make, model, capture time, orientation and GPS. It walks the
 * TIFF structure sharp hands back (optionally prefixed "Exif\0\0"): IFD0, the Exif sub-IFD and the GPS sub-IFD.
 * Every offset is bounds-checked; malformed EXIF yields what could be read, never an exception.
 */
import type { ExifSummary } from '@imgpipe/contracts';

const TAG_MAKE = 0x010f;
const TAG_MODEL = 0x0110;
const TAG_ORIENTATION = 0x0112;
const TAG_DATE_TIME = 0x0132;
const TAG_EXIF_IFD = 0x8769;
const TAG_GPS_IFD = 0x8825;
const TAG_DATE_TIME_ORIGINAL = 0x9003;
const TAG_DATE_TIME_DIGITIZED = 0x9004;
const TAG_OFFSET_TIME_ORIGINAL = 0x9011;
const TAG_GPS_LATITUDE_REF = 0x0001;
const TAG_GPS_LATITUDE = 0x0002;
const TAG_GPS_LONGITUDE_REF = 0x0003;
const TAG_GPS_LONGITUDE = 0x0004;

const TYPE_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};
const MAX_ENTRIES = 512;

type Value = string | number[] | undefined;

export interface ExifOptions {
  /** Include coordinates (otherwise only hasGps). */
  keepGps?: boolean;
}

export function parseExif(exif: Uint8Array | undefined, options: ExifOptions = {}): ExifSummary {
  if (!exif || exif.length < 8) return { hasGps: false };
  const start = ascii(exif, 0, 6) === 'Exif\0\0' ? 6 : 0;
  const tiff = exif.subarray(start);
  const reader = new TiffReader(tiff);
  if (!reader.valid) return { hasGps: false };

  const ifd0 = reader.readIfd(reader.firstIfdOffset);
  const exifIfd = pointer(ifd0.get(TAG_EXIF_IFD));
  const gpsIfd = pointer(ifd0.get(TAG_GPS_IFD));
  const sub = exifIfd === undefined ? new Map<number, Value>() : reader.readIfd(exifIfd);
  const gps = gpsIfd === undefined ? new Map<number, Value>() : reader.readIfd(gpsIfd);

  const summary: ExifSummary = { hasGps: false };
  const make = text(ifd0.get(TAG_MAKE));
  const model = text(ifd0.get(TAG_MODEL));
  if (make) summary.make = make;
  if (model) summary.model = model;
  const orientation = first(ifd0.get(TAG_ORIENTATION));
  if (orientation !== undefined && orientation >= 1 && orientation <= 8) summary.orientation = orientation;
  const takenAt = isoDateTime(
    text(sub.get(TAG_DATE_TIME_ORIGINAL)) ?? text(sub.get(TAG_DATE_TIME_DIGITIZED)) ?? text(ifd0.get(TAG_DATE_TIME)),
    text(sub.get(TAG_OFFSET_TIME_ORIGINAL)),
  );
  if (takenAt) summary.takenAt = takenAt;

  const latitude = coordinate(gps.get(TAG_GPS_LATITUDE), text(gps.get(TAG_GPS_LATITUDE_REF)), 'S', 90);
  const longitude = coordinate(gps.get(TAG_GPS_LONGITUDE), text(gps.get(TAG_GPS_LONGITUDE_REF)), 'W', 180);
  if (latitude !== undefined && longitude !== undefined) {
    summary.hasGps = true;
    if (options.keepGps) summary.gps = { latitude, longitude };
  }
  return summary;
}

class TiffReader {
  readonly valid: boolean;
  readonly firstIfdOffset: number;
  private readonly view: DataView;
  private readonly little: boolean;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const order = ascii(bytes, 0, 2);
    this.little = order === 'II';
    this.valid = (order === 'II' || order === 'MM') && bytes.length >= 8 && this.u16(2) === 42;
    this.firstIfdOffset = this.valid ? this.u32(4) : 0;
  }

  /** The entries of one IFD as tag -> value (strings for ASCII, numbers otherwise; rationals as quotients). */
  readIfd(offset: number): Map<number, Value> {
    const entries = new Map<number, Value>();
    if (offset < 8 || offset + 2 > this.bytes.length) return entries;
    const count = Math.min(this.u16(offset), MAX_ENTRIES);
    for (let i = 0; i < count; i++) {
      const entry = offset + 2 + i * 12;
      if (entry + 12 > this.bytes.length) break;
      const tag = this.u16(entry);
      entries.set(tag, this.readValue(entry));
    }
    return entries;
  }

  private readValue(entry: number): Value {
    const type = this.u16(entry + 2);
    const count = this.u32(entry + 4);
    const size = TYPE_SIZES[type];
    if (size === undefined || count === 0 || count > 1 << 16) return undefined;
    const total = size * count;
    const at = total <= 4 ? entry + 8 : this.u32(entry + 8);
    if (at + total > this.bytes.length) return undefined;
    if (type === 2) return ascii(this.bytes, at, count);
    const values: number[] = [];
    for (let i = 0; i < Math.min(count, 16); i++) {
      const position = at + i * size;
      switch (type) {
        case 1:
        case 7:
          values.push(this.bytes[position]!);
          break;
        case 3:
          values.push(this.u16(position));
          break;
        case 4:
          values.push(this.u32(position));
          break;
        case 9:
          values.push(this.view.getInt32(position, this.little));
          break;
        case 5:
        case 10: {
          const read = type === 5 ? this.u32.bind(this) : (p: number) => this.view.getInt32(p, this.little);
          const denominator = read(position + 4);
          values.push(denominator === 0 ? Number.NaN : read(position) / denominator);
          break;
        }
        default:
          return undefined;
      }
    }
    return values;
  }

  private u16(offset: number): number {
    return this.view.getUint16(offset, this.little);
  }

  private u32(offset: number): number {
    return this.view.getUint32(offset, this.little);
  }
}

function pointer(value: Value): number | undefined {
  return first(value);
}

function first(value: Value): number | undefined {
  return Array.isArray(value) && value.length > 0 && Number.isFinite(value[0]) ? value[0] : undefined;
}

function text(value: Value): string | undefined {
  if (typeof value !== 'string') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: EXIF strings are NUL-terminated and padded
  const cleaned = value.replace(/\u0000[\s\S]*$/, '').trim();
  return cleaned.length > 0 ? cleaned.slice(0, 128) : undefined;
}

/** "2024:05:17 14:03:22" (+ "+02:00") -> "2024-05-17T14:03:22+02:00". */
function isoDateTime(value: string | undefined, offset: string | undefined): string | undefined {
  const match = value && /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  if (year === '0000' || month === '00' || day === '00') return undefined;
  const zone = offset && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : '';
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${zone}`;
}

function coordinate(value: Value, ref: string | undefined, negative: string, limit: number): number | undefined {
  if (!Array.isArray(value) || value.length < 3) return undefined;
  const [degrees, minutes, seconds] = value as [number, number, number];
  const decimal = degrees + minutes / 60 + seconds / 3600;
  if (!Number.isFinite(decimal) || decimal > limit) return undefined;
  const signed = ref?.toUpperCase().startsWith(negative) ? -decimal : decimal;
  return Math.round(signed * 1e7) / 1e7;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}
