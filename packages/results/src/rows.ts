/**
 * Mapping between the result contract's shapes and table rows, both ways, so the repository (writing) and the
 * queries (reading) agree on every column.
 */
import type {
  DetectedFace,
  DetectedObject,
  Label,
  NormalizedBox,
  PixelBox,
  Rendition,
  TextLine,
} from '@imgpipe/contracts';
import type { Selectable } from 'kysely';
import type {
  BoxColumns,
  DetectionsTable,
  FacesTable,
  ImageLabelsTable,
  RenditionsTable,
  TextLinesTable,
} from './schema.ts';

export function boxColumns(box: PixelBox, normalized: NormalizedBox): BoxColumns {
  return {
    box_x: box.x,
    box_y: box.y,
    box_width: box.width,
    box_height: box.height,
    norm_left: normalized.left,
    norm_top: normalized.top,
    norm_width: normalized.width,
    norm_height: normalized.height,
  };
}

function boxes(row: BoxColumns): { box: PixelBox; boxNormalized: NormalizedBox } {
  return {
    box: { x: row.box_x, y: row.box_y, width: row.box_width, height: row.box_height },
    boxNormalized: { left: row.norm_left, top: row.norm_top, width: row.norm_width, height: row.norm_height },
  };
}

export function detectionRow(imageId: string, ordinal: number, object: DetectedObject) {
  return {
    image_id: imageId,
    ordinal,
    label: object.label,
    class_id: object.classId,
    confidence: object.confidence,
    ...boxColumns(object.box, object.boxNormalized),
  };
}

export function toDetectedObject(row: Selectable<DetectionsTable>): DetectedObject {
  return { label: row.label, classId: row.class_id, confidence: row.confidence, ...boxes(row) };
}

export function faceRow(imageId: string, ordinal: number, face: DetectedFace) {
  return {
    image_id: imageId,
    ordinal,
    confidence: face.confidence,
    ...boxColumns(face.box, face.boxNormalized),
    landmarks: JSON.stringify(face.landmarks),
  };
}

export function toDetectedFace(row: Selectable<FacesTable>): DetectedFace {
  return { confidence: row.confidence, ...boxes(row), landmarks: row.landmarks };
}

export function textLineRow(imageId: string, ordinal: number, line: TextLine) {
  return {
    image_id: imageId,
    ordinal,
    text: line.text,
    confidence: line.confidence,
    polygon: JSON.stringify(line.polygon),
    ...boxColumns(line.box, line.boxNormalized),
    words: line.words === undefined ? null : JSON.stringify(line.words),
  };
}

export function toTextLine(row: Selectable<TextLinesTable>): TextLine {
  const line: TextLine = { text: row.text, confidence: row.confidence, polygon: row.polygon, ...boxes(row) };
  if (row.words !== null) line.words = row.words;
  return line;
}

export function renditionRow(imageId: string, ordinal: number, rendition: Rendition) {
  return { image_id: imageId, ordinal, ...rendition };
}

/** bytes is int8: a string from the driver, a number in JSON aggregates. */
export function toRendition(
  row: Selectable<RenditionsTable> | (Omit<RenditionsTable, 'bytes'> & { bytes: number }),
): Rendition {
  return {
    name: row.name,
    recipe: row.recipe,
    key: row.key,
    format: row.format,
    width: row.width,
    height: row.height,
    bytes: Number(row.bytes),
  };
}

export function labelRow(imageId: string, label: Label): ImageLabelsTable {
  return { image_id: imageId, label: label.label, count: label.count, confidence: label.confidence };
}

export function toLabel(row: Selectable<ImageLabelsTable>): Label {
  return { label: row.label, count: row.count, confidence: row.confidence };
}

/** Drops undefined properties the way a JSON round trip through jsonb would, so comparisons see what is stored. */
export function asStored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
