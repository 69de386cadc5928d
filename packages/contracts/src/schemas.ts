/**
 * The .avsc files under schemas/ as the codec and the registry see them. They are the published contract (generated
 * from event-schemas.ts); a different directory can be given to check or register edited copies.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImgpipeError } from '@imgpipe/core';
import avro, { type Type } from 'avsc';
import { EVENT_TYPE_NAMES, type EventType, SCHEMA_NAMESPACE } from './topics.ts';

export const DEFAULT_SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));

export interface EventSchema {
  eventType: EventType;
  /** Avro full name, e.g. io.imgpipe.events.ImageUploaded. */
  fullName: string;
  /** Compact JSON of the file: what is registered, so formatting changes never make a new version. */
  text: string;
  type: Type;
}

export type EventSchemas = Readonly<Record<EventType, EventSchema>>;

export function schemaFileName(eventType: EventType): string {
  return `${eventType}.avsc`;
}

export function fullNameOf(eventType: EventType): string {
  return `${SCHEMA_NAMESPACE}.${eventType}`;
}

export function loadEventSchemas(dir: string = DEFAULT_SCHEMAS_DIR): EventSchemas {
  const schemas = {} as Record<EventType, EventSchema>;
  for (const eventType of EVENT_TYPE_NAMES) {
    schemas[eventType] = loadEventSchema(join(dir, schemaFileName(eventType)), eventType);
  }
  return schemas;
}

export function loadEventSchema(path: string, eventType: EventType): EventSchema {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ImgpipeError('SCHEMA_INVALID', `cannot read the ${eventType} schema at ${path}`, { cause: error });
  }
  return parseEventSchema(source, eventType, path);
}

export function parseEventSchema(source: string, eventType: EventType, origin: string = eventType): EventSchema {
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw new ImgpipeError('SCHEMA_INVALID', `${origin} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  let type: Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new ImgpipeError('SCHEMA_INVALID', `${origin} is not a valid Avro schema: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const fullName = fullNameOf(eventType);
  if (type.name !== fullName) {
    throw new ImgpipeError(
      'SCHEMA_INVALID',
      `${origin} defines ${type.name ?? 'an unnamed type'}, expected record ${fullName}`,
    );
  }
  return { eventType, fullName, text: JSON.stringify(json), type };
}
