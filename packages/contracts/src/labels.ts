import type { DetectedObject, Label } from './results.ts';

/** The order labels are reported in everywhere: best confidence first, then most instances, then name. */
export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => b.confidence - a.confidence || b.count - a.count || a.label.localeCompare(b.label));
}

/** One label per class among the objects: counted, with the best confidence. */
export function labelsFromObjects(objects: readonly DetectedObject[]): Label[] {
  const byLabel = new Map<string, Label>();
  for (const object of objects) {
    const seen = byLabel.get(object.label);
    if (seen) {
      seen.count += 1;
      seen.confidence = Math.max(seen.confidence, object.confidence);
    } else {
      byLabel.set(object.label, { label: object.label, count: 1, confidence: object.confidence });
    }
  }
  return sortLabels([...byLabel.values()]);
}
