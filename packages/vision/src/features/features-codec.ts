/**
 * A compact binary form of keypoints and descriptors, to store beside an image (object storage) and match later
 * without detecting again. Little-endian throughout; version 1:
 *
 *   offset  bytes  field
 *   0       4      magic "IPKF"
 *   4       1      version (1)
 *   5       1      detector: 1 = sift, 2 = orb
 *   6       1      descriptor encoding: 1 = one byte per value (SIFT's values are whole numbers 0-255, so this is
 *                  lossless), 2 = packed bits (ORB's 256-bit strings as 32 bytes)
 *   7       1      reserved, 0
 *   8       4      keypoint count N (u32)
 *   12      2      descriptor bytes per keypoint D (u16): 128 for SIFT, 32 for ORB
 *   14      2      parameters length P (u16)
 *   16      4      width of the image the coordinates refer to (u32)
 *   20      4      height (u32)
 *   24      P      parameters, UTF-8 JSON of the complete detector parameters
 *   24+P    24*N   keypoints, each x, y, size, angle, response (f32) and octave (i32)
 *   ...     D*N    descriptors, row by row, in keypoint order
 *
 * SIFT takes 152 bytes per keypoint (against 536 as float32 descriptors), ORB 56. Readers reject other magics,
 * versions they do not know and lengths that do not add up (CODEC_INVALID_PAYLOAD, CODEC_TRUNCATED).
 */
import { ImgpipeError } from '@imgpipe/core';
import type { Features } from './detect-keypoints.ts';
import { ORB_DESCRIPTOR_BYTES } from './orb.ts';
import { normalizeFeatureOptions } from './params.ts';
import { SIFT_DESCRIPTOR_SIZE } from './sift.ts';

export const FEATURES_CODEC_VERSION = 1;
const MAGIC = [0x49, 0x50, 0x4b, 0x46]; // "IPKF"
const HEADER_BYTES = 24;
const KEYPOINT_BYTES = 24;

/** What a stored form gives back: everything matching needs, without timings. */
export type StoredFeatures = Omit<Features, 'timings'>;

export function encodeFeatures(features: StoredFeatures): Uint8Array {
  const n = features.keypoints.length;
  const isSift = features.detector === 'sift';
  const bytesPer = isSift ? SIFT_DESCRIPTOR_SIZE : ORB_DESCRIPTOR_BYTES;
  if (features.descriptors.length !== n * bytesPer) {
    throw new ImgpipeError(
      'STAGE_INTERNAL',
      `expected ${n * bytesPer} descriptor values, got ${features.descriptors.length}`,
    );
  }
  const params = new TextEncoder().encode(JSON.stringify(features.params));
  const out = new Uint8Array(HEADER_BYTES + params.length + n * (KEYPOINT_BYTES + bytesPer));
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = FEATURES_CODEC_VERSION;
  out[5] = isSift ? 1 : 2;
  out[6] = isSift ? 1 : 2;
  view.setUint32(8, n, true);
  view.setUint16(12, bytesPer, true);
  view.setUint16(14, params.length, true);
  view.setUint32(16, features.width, true);
  view.setUint32(20, features.height, true);
  out.set(params, HEADER_BYTES);
  let at = HEADER_BYTES + params.length;
  for (const k of features.keypoints) {
    view.setFloat32(at, k.x, true);
    view.setFloat32(at + 4, k.y, true);
    view.setFloat32(at + 8, k.size, true);
    view.setFloat32(at + 12, k.angle, true);
    view.setFloat32(at + 16, k.response, true);
    view.setInt32(at + 20, k.octave, true);
    at += KEYPOINT_BYTES;
  }
  const values = features.descriptors;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new ImgpipeError('STAGE_INTERNAL', `descriptor value ${v} at ${i} is not a whole number 0-255`);
    }
    out[at + i] = v;
  }
  return out;
}

export function decodeFeatures(bytes: Uint8Array): StoredFeatures {
  if (bytes.length < HEADER_BYTES) {
    throw new ImgpipeError(
      'CODEC_TRUNCATED',
      `a features record has at least ${HEADER_BYTES} bytes, got ${bytes.length}`,
    );
  }
  if (MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', 'not a features record (no IPKF magic)');
  }
  if (bytes[4] !== FEATURES_CODEC_VERSION) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `features record version ${bytes[4]} is not one this reader knows`);
  }
  const detector = bytes[5] === 1 ? 'sift' : bytes[5] === 2 ? 'orb' : undefined;
  const encoding = bytes[6];
  if (!detector || encoding !== (detector === 'sift' ? 1 : 2)) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `unknown detector ${bytes[5]} or descriptor encoding ${encoding}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(8, true);
  const bytesPer = view.getUint16(12, true);
  const paramsLength = view.getUint16(14, true);
  if (bytesPer !== (detector === 'sift' ? SIFT_DESCRIPTOR_SIZE : ORB_DESCRIPTOR_BYTES)) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `${detector} descriptors have ${bytesPer} bytes in this record`);
  }
  const expected = HEADER_BYTES + paramsLength + n * (KEYPOINT_BYTES + bytesPer);
  if (bytes.length !== expected) {
    throw new ImgpipeError(
      bytes.length < expected ? 'CODEC_TRUNCATED' : 'CODEC_INVALID_PAYLOAD',
      `a features record of ${n} keypoints has ${expected} bytes, got ${bytes.length}`,
    );
  }
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + paramsLength)),
    );
  } catch (error) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `features record parameters: ${(error as Error).message}`);
  }
  let options: ReturnType<typeof normalizeFeatureOptions>;
  try {
    options = normalizeFeatureOptions({ detector, params });
  } catch (error) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `features record parameters: ${(error as Error).message}`);
  }
  let at = HEADER_BYTES + paramsLength;
  const keypoints = [];
  for (let i = 0; i < n; i++, at += KEYPOINT_BYTES) {
    keypoints.push({
      x: view.getFloat32(at, true),
      y: view.getFloat32(at + 4, true),
      size: view.getFloat32(at + 8, true),
      angle: view.getFloat32(at + 12, true),
      response: view.getFloat32(at + 16, true),
      octave: view.getInt32(at + 20, true),
    });
  }
  const raw = bytes.subarray(at, at + n * bytesPer);
  const common = {
    width: view.getUint32(16, true),
    height: view.getUint32(20, true),
    keypoints,
    descriptorSize: bytesPer,
  };
  return options.detector === 'sift'
    ? {
        ...common,
        detector: 'sift',
        params: options.params,
        descriptorType: 'float32',
        descriptors: Float32Array.from(raw),
      }
    : {
        ...common,
        detector: 'orb',
        params: options.params,
        descriptorType: 'binary',
        descriptors: Uint8Array.from(raw),
      };
}
