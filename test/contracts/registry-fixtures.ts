/**
 * Helpers for the contract tests against the real schema registry (IMGPIPE_SCHEMA_REGISTRY_URL): throwaway subjects
 * with a unique name per run, so the tests never add versions to the real subjects, and their cleanup.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { RegistryHttp } from '@imgpipe/contracts';

export const registryUrl = loadConfig({ schemaRegistryUrl: serviceSettings.schemaRegistryUrl }).schemaRegistryUrl;
export const registryHttp = new RegistryHttp(registryUrl);

const created = new Set<string>();

/** A subject name no other run uses; deleted by deleteThrowawaySubjects(). */
export function throwawaySubject(label: string): string {
  const subject = `imgpipe-test.${label}.${randomUUID()}-value`;
  created.add(subject);
  return subject;
}

/** Registers a schema straight through the Confluent API, returning its id. */
export async function registerRaw(subject: string, schema: string): Promise<number> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema }),
  });
  const body = (await response.json()) as { id?: number; message?: string };
  if (!response.ok || typeof body.id !== 'number') {
    throw new Error(`registering under ${subject} failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}

export async function deleteThrowawaySubjects(): Promise<void> {
  for (const subject of created) await registryHttp.deleteSubject(subject);
  created.clear();
}

/** A schema's JSON with one more field appended to its top-level record. */
export function withExtraField(schemaText: string, extra: Record<string, unknown>): string {
  const schema = JSON.parse(schemaText) as { fields: unknown[] };
  schema.fields.push(extra);
  return JSON.stringify(schema);
}
