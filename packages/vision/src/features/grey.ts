/**
 * Grey pixels for the detectors, computed as OpenCV's cvtColor(COLOR_RGB2GRAY) does for 8-bit images:
 * Y = 0.299 R + 0.587 G + 0.114 B in 14-bit fixed point, rounded, so keypoints can be compared with OpenCV's on the
 * same grey image bit for bit.
 */
import { ImgpipeError } from '@imgpipe/core';

/** Pixels as the pool carries them: row-major, no padding, 1 (grey), 3 (RGB) or 4 (RGBA) bytes per pixel. */
export interface FeatureImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes per pixel; inferred from data.length when absent. */
  channels?: 1 | 3 | 4;
  /**
   * Size of the image users see when these pixels are a downscaled copy of it (NormalizedImage): keypoints are
   * reported in that image's pixels. Absent: the pixels' own size.
   */
  originalWidth?: number;
  originalHeight?: number;
}

const R = 4899; // round(0.299 * 16384)
const G = 9617; // round(0.587 * 16384)
const B = 1868; // round(0.114 * 16384)

export function channelsOf(image: FeatureImage): 1 | 3 | 4 {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImgpipeError('REQUEST_INVALID', `image size ${width}x${height} is not a positive whole size`);
  }
  const channels = image.channels ?? data.length / (width * height);
  if ((channels !== 1 && channels !== 3 && channels !== 4) || data.length !== width * height * channels) {
    throw new ImgpipeError(
      'REQUEST_INVALID',
      `expected ${width}x${height} pixels of 1, 3 or 4 bytes, got ${data.length} bytes${image.channels ? ` for ${image.channels} channels` : ''}`,
    );
  }
  return channels;
}

export function toGrey(image: FeatureImage): Uint8Array {
  const channels = channelsOf(image);
  const { data } = image;
  if (channels === 1) return data;
  const n = image.width * image.height;
  const grey = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    grey[i] = (data[p]! * R + data[p + 1]! * G + data[p + 2]! * B + 8192) >> 14;
  }
  return grey;
}
