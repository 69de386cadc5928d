/**
 * One complete, realistic instance of every event, with every optional field set (the codec round-trip tests use
 * them, and other packages' tests may start from them). Fresh objects on every call, so callers may mutate them.
 */
import type { EventMap } from './events.ts';
import type { FeatureSummary, ImageInfo, ModelIdentity, RecognizedText, Rendition } from './results.ts';

const IMAGE_ID = '0b7c6f4e-3f2a-4d1e-9a51-7c2b8e1d4f60';
const TENANT = 'acme';
const AT = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const SHA = 'a3f1c09e5b7d24f6e8a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566';

function blob(key: string, size: number, contentType = 'image/jpeg') {
  return { bucket: 'imgpipe', key, sha256: SHA, size, contentType };
}

function model(name: string): ModelIdentity {
  return { name, version: '1.0.0', sha256: SHA };
}

function imageInfo(): ImageInfo {
  return {
    width: 1280,
    height: 960,
    format: 'jpeg',
    bytes: 245_761,
    sha256: SHA,
    hasAlpha: false,
    exif: {
      make: 'Canon',
      model: 'EOS R6',
      takenAt: '2025-06-01T10:15:00',
      orientation: 6,
      hasGps: true,
      gps: { latitude: 48.8584, longitude: 2.2945 },
    },
    colors: [
      { hex: '#1f3a5c', share: 0.41 },
      { hex: '#e0d6c2', share: 0.22 },
    ],
    quality: { brightness: 0.52, contrast: 0.21, sharpness: 312.5 },
    perceptualHash: 'c3d2e1f0a9b8c7d6',
    scene: {
      texture: { contrast: 0.0123, homogeneity: 0.8741, energy: 0.2236, entropy: 4.8172, edgeDensity: 0.0862 },
      composition: {
        weightCenter: { x: 0.3912, y: 0.4471 },
        thirdsDistance: 0.2681,
        symmetry: 0.8817,
        horizonTilt: -1.35,
      },
    },
  };
}

function objects() {
  return [
    {
      label: 'bus',
      classId: 5,
      confidence: 0.91,
      box: { x: 100.5, y: 200, width: 640, height: 480.25 },
      boxNormalized: { left: 0.0785, top: 0.2083, width: 0.5, height: 0.5003 },
    },
  ];
}

function faces() {
  return [
    {
      confidence: 0.98,
      box: { x: 700, y: 120, width: 96, height: 120 },
      boxNormalized: { left: 0.5469, top: 0.125, width: 0.075, height: 0.125 },
      landmarks: {
        rightEye: { x: 725, y: 160 },
        leftEye: { x: 770, y: 161 },
        nose: { x: 748, y: 185 },
        mouthRight: { x: 730, y: 210 },
        mouthLeft: { x: 766, y: 211 },
      },
    },
  ];
}

function text(): RecognizedText {
  const polygon = [
    { x: 150, y: 300 },
    { x: 420, y: 300 },
    { x: 420, y: 340 },
    { x: 150, y: 340 },
  ];
  return {
    fullText: 'LINE 42 Downtown',
    lines: [
      {
        text: 'LINE 42 Downtown',
        confidence: 0.87,
        polygon,
        box: { x: 150, y: 300, width: 270, height: 40 },
        boxNormalized: { left: 0.1172, top: 0.3125, width: 0.2109, height: 0.0417 },
        words: [{ text: 'LINE', confidence: 0.9, polygon }],
      },
    ],
    codes: [
      {
        format: 'QRCode',
        text: 'https://example.com/timetable/42',
        polygon: [
          { x: 900, y: 120 },
          { x: 1000, y: 120 },
          { x: 1000, y: 220 },
          { x: 900, y: 220 },
        ],
        box: { x: 900, y: 120, width: 100, height: 100 },
        boxNormalized: { left: 0.7031, top: 0.125, width: 0.0781, height: 0.1042 },
      },
    ],
  };
}

function rendition(): Rendition {
  return {
    name: 'thumb',
    recipe: 'resize:320x320:cover/format:webp:80',
    key: `tenants/${TENANT}/renditions/${SHA.slice(0, 2)}/${SHA}/${'ab'.repeat(32)}`,
    format: 'webp',
    width: 320,
    height: 320,
    bytes: 9_874,
  };
}

function featureSummary(): FeatureSummary {
  return {
    detector: 'sift',
    params: 'sift:contrastThreshold=0.04,edgeThreshold=10,nOctaveLayers=3,nfeatures=0,sigma=1.6',
    maxSide: 1280,
    width: 1280,
    height: 960,
    count: 1247,
    keypoints: [
      { x: 612.25, y: 388.75, size: 31.4, angle: 87.5, response: 0.0912, octave: 8_388_864 },
      { x: 101.5, y: 733.0, size: 12.1, angle: 301.2, response: 0.0655, octave: 10_879_487 },
    ],
    descriptorType: 'float32',
    descriptorSize: 128,
    descriptorsKey: `tenants/${TENANT}/features/${SHA.slice(0, 2)}/${SHA}/${'cd'.repeat(32)}.ipkf`,
    descriptorsBytes: 189_578,
  };
}

function featuresModel(): ModelIdentity {
  return { name: 'sift', version: 'imgpipe-features-1', sha256: 'cd'.repeat(32) };
}

export function exampleEvents(): EventMap {
  return {
    ImageUploaded: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT,
      source: 'bus.jpg',
      contentType: 'image/jpeg',
      blob: blob(`uploads/${IMAGE_ID}`, 245_761),
      sha256: SHA,
      size: 245_761,
      analyses: ['detect', 'ocr'],
      callbackUrl: 'https://example.com/hooks/imgpipe',
      attributes: { album: 'trips', camera: 'phone' },
      renditions: ['thumb'],
    },
    ImagePreprocessed: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 150,
      sourceName: 'bus.jpg',
      analyses: ['detect', 'ocr'],
      status: 'completed',
      model: model('preprocess'),
      durationMs: 148.7,
      original: blob(`uploads/${IMAGE_ID}`, 245_761),
      image: imageInfo(),
      derivatives: {
        thumbnail: blob(`derived/${IMAGE_ID}/thumb.webp`, 8_123, 'image/webp'),
        normalized: blob(`derived/${IMAGE_ID}/normalized`, 1_203_001, 'application/vnd.imgpipe.rgb+zstd'),
      },
      attributes: { album: 'trips', camera: 'phone' },
      renditions: ['thumb'],
    },
    ObjectsDetected: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 400,
      status: 'completed',
      model: model('yolov8n'),
      durationMs: 212.3,
      objects: objects(),
    },
    FacesDetected: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 380,
      status: 'failed',
      error: { code: 'MODEL_INFERENCE_FAILED', message: 'the face model failed while running' },
      model: model('scrfd'),
      durationMs: 12,
      faces: faces(),
    },
    TextRecognized: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 650,
      status: 'completed',
      model: model('ppocr'),
      durationMs: 480.9,
      text: text(),
    },
    ImageAnalyzed: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 700,
      sourceName: 'bus.jpg',
      status: 'partial',
      image: imageInfo(),
      labels: [{ label: 'bus', count: 1, confidence: 0.91 }],
      objects: objects(),
      faces: [],
      text: text(),
      textInObjects: [{ line: 0, object: 0 }],
      stages: {
        preprocess: { status: 'completed', durationMs: 148.7 },
        detect: { status: 'completed', model: model('yolov8n'), durationMs: 212.3 },
        faces: {
          status: 'failed',
          error: { code: 'MODEL_INFERENCE_FAILED', message: 'the face model failed while running' },
          model: model('scrfd'),
        },
        ocr: { status: 'completed', model: model('ppocr'), durationMs: 480.9 },
        aggregate: { status: 'completed', durationMs: 3 },
      },
      attributes: { album: 'trips', camera: 'phone' },
      renditions: [rendition()],
      transform: { status: 'completed', durationMs: 41.5 },
      features: featureSummary(),
      featuresStage: { status: 'completed', model: featuresModel(), durationMs: 1_210.4 },
    },
    ImageTransformed: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 420,
      status: 'completed',
      durationMs: 41.5,
      renditions: [rendition()],
    },
    FeaturesExtracted: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      occurredAt: AT + 450,
      status: 'completed',
      model: featuresModel(),
      durationMs: 1_210.4,
      features: featureSummary(),
    },
    DeadLetter: {
      imageId: IMAGE_ID,
      tenantId: TENANT,
      sourceTopic: 'images.preprocessed',
      partition: 3,
      offset: 9_007_199_254_740_000,
      key: Buffer.from(IMAGE_ID),
      value: Buffer.from([0, 0, 0, 0, 42, 1, 2, 3]),
      headers: [
        { key: 'traceparent', value: Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') },
        { key: 'x-empty' },
      ],
      stage: 'detect',
      errorCode: 'CODEC_UNKNOWN_SCHEMA',
      errorMessage: 'the registry knows no schema with id 42',
      retriable: false,
      attempt: 1,
      failedAt: AT + 900,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    },
  };
}
