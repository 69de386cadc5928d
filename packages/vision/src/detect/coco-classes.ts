/**
 * The 80 COCO class names in the order YOLOX was trained with, in darknet spelling (motorbike, aeroplane, sofa,
 * pottedplant, diningtable, tvmonitor), identical to models/coco_classes.txt (a test keeps them in step).
 * Built in so the default detector needs no extra file; a labels option or file overrides them.
 */
export const COCO_CLASSES: readonly string[] = Object.freeze([
  'person',
  'bicycle',
  'car',
  'motorbike',
  'aeroplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'sofa',
  'pottedplant',
  'bed',
  'diningtable',
  'toilet',
  'tvmonitor',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
]);

/**
 * Class names from an Ultralytics export's `names` metadata, a Python dict literal: "{0: 'person', 1: 'bicycle'}".
 * Returns undefined when there is nothing to read.
 */
export function parseNamesMetadata(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  const names: string[] = [];
  for (const match of value.matchAll(/(\d+)\s*:\s*(['"])((?:\\.|(?!\2).)*)\2/g)) {
    names[Number(match[1])] = match[3]!.replace(/\\(.)/g, '$1');
  }
  if (names.length === 0) return undefined;
  return Array.from(names, (name, index) => name ?? `class${index}`);
}

/** One class name per line (blank lines ignored), the darknet/YOLOX convention. */
export function parseLabelsFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}
