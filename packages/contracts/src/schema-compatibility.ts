/**
 * Would registering these schemas be accepted? Asks the registry's compatibility endpoint for each subject, against
 * its latest version under the subject's level (BACKWARD for imgpipe: a consumer with the new schema reads every
 * message written with the old one). Nothing is registered. A subject without versions is `new`, which is fine.
 */
import avro from 'avsc';
import { RegistryHttp } from './registry-http.ts';
import type { EventSchemas } from './schemas.ts';
import { type EventType, eventSubjects } from './topics.ts';

export type CompatibilityStatus = 'compatible' | 'incompatible' | 'new';

export interface CompatibilityResult {
  subject: string;
  eventType?: EventType;
  status: CompatibilityStatus;
  /** The registered version it was checked against; absent for a new subject. */
  latestVersion?: number;
  /** The registry's explanation when incompatible (Apicurio and Confluent list the offending changes). */
  messages: string[];
}

export async function checkSchemaCompatibility(
  registry: RegistryHttp | string,
  subject: string,
  schemaText: string,
): Promise<CompatibilityResult> {
  const http = typeof registry === 'string' ? new RegistryHttp(registry) : registry;
  const answer = await http.compatibility(subject, schemaText);
  const status = answer.compatible === undefined ? 'new' : answer.compatible ? 'compatible' : 'incompatible';
  const messages =
    status === 'incompatible' && answer.messages.length === 0 && answer.latest
      ? explainIncompatibility(schemaText, answer.latest.schema)
      : answer.messages;
  return { subject, status, ...(answer.latest ? { latestVersion: answer.latest.version } : {}), messages };
}

/**
 * Why a reader with the new schema cannot read data written with the old one, in avsc's words. Used when the
 * registry answers only "not compatible" (Apicurio's Confluent API gives no reasons).
 */
export function explainIncompatibility(newSchema: string, oldSchema: string): string[] {
  try {
    const reader = avro.Type.forSchema(JSON.parse(newSchema) as avro.Schema);
    const writer = avro.Type.forSchema(JSON.parse(oldSchema) as avro.Schema);
    reader.createResolver(writer);
    return [];
  } catch (error) {
    return [
      `a consumer with the new schema cannot read data written with the registered one: ${(error as Error).message}`,
    ];
  }
}

/** Checks every event schema under every subject it is used with. */
export async function checkEventSchemas(registryUrl: string, schemas: EventSchemas): Promise<CompatibilityResult[]> {
  const http = new RegistryHttp(registryUrl);
  const results: CompatibilityResult[] = [];
  for (const { eventType, subject } of eventSubjects()) {
    const result = await checkSchemaCompatibility(http, subject, schemas[eventType].text);
    results.push({ ...result, eventType });
  }
  return results;
}
