import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { CompatibilityAnswer, RegistryHttp } from './registry-http.ts';
import { checkEventSchemas, checkSchemaCompatibility, explainIncompatibility } from './schema-compatibility.ts';
import { loadEventSchemas } from './schemas.ts';
import { eventSubjects } from './topics.ts';

/** The compatibility logic without a registry: canned answers, or a few Confluent endpoints served in process. */

const schemas = loadEventSchemas();
const uploaded = schemas.ImageUploaded.text;

/** The schema with one of its fields taken out (what an older producer might have registered). */
function without(schemaText: string, field: string): string {
  const schema = JSON.parse(schemaText) as { fields: { name: string }[] };
  return JSON.stringify({ ...schema, fields: schema.fields.filter((f) => f.name !== field) });
}

function registryAnswering(answer: CompatibilityAnswer): RegistryHttp {
  return { compatibility: async () => answer } as unknown as RegistryHttp;
}

const latest = (schema: string) => ({ subject: 's-value', id: 7, version: 3, schema });

describe('checkSchemaCompatibility', () => {
  test('a subject without versions is new', async () => {
    const result = await checkSchemaCompatibility(
      registryAnswering({ compatible: undefined, messages: [] }),
      's-value',
      uploaded,
    );
    assert.deepEqual(result, { subject: 's-value', status: 'new', messages: [] });
  });

  test('compatible, with the version it was checked against', async () => {
    const result = await checkSchemaCompatibility(
      registryAnswering({ compatible: true, messages: [], latest: latest(uploaded) }),
      's-value',
      uploaded,
    );
    assert.deepEqual(result, { subject: 's-value', status: 'compatible', latestVersion: 3, messages: [] });
  });

  test("incompatible with the registry's reasons", async () => {
    const result = await checkSchemaCompatibility(
      registryAnswering({ compatible: false, messages: ['field x removed'], latest: latest(uploaded) }),
      's-value',
      uploaded,
    );
    assert.deepEqual(result, {
      subject: 's-value',
      status: 'incompatible',
      latestVersion: 3,
      messages: ['field x removed'],
    });
  });

  test('incompatible without reasons (Apicurio): explained from the two schemas', async () => {
    const result = await checkSchemaCompatibility(
      registryAnswering({ compatible: false, messages: [], latest: latest(without(uploaded, 'imageId')) }),
      's-value',
      uploaded,
    );
    assert.equal(result.status, 'incompatible');
    assert.equal(result.messages.length, 1);
    assert.match(
      result.messages[0]!,
      /^a consumer with the new schema cannot read data written with the registered one: .*imageId/,
    );
  });

  test('explainIncompatibility: nothing to explain for a readable pair', () => {
    assert.deepEqual(explainIncompatibility(without(uploaded, 'imageId'), uploaded), []);
    assert.deepEqual(explainIncompatibility(uploaded, uploaded), []);
    assert.equal(explainIncompatibility(uploaded, without(uploaded, 'imageId')).length, 1);
  });
});

describe('checkEventSchemas against a registry served in process', () => {
  let server: Server;
  let url: string;
  const compatibilityCalls: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      const path = decodeURIComponent(request.url ?? '');
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        response.end(JSON.stringify(body));
      };
      const subject = /\/subjects\/([^/]+)\/versions\/latest/.exec(path)?.[1];
      if (request.method === 'GET' && subject) {
        if (subject === 'images.uploaded-value') return reply(404, { error_code: 40401, message: 'not found' });
        const old = subject === 'images.detected-value' ? without(schemas.ObjectsDetected.text, 'imageId') : '{}';
        return reply(200, { subject, id: 1, version: 2, schema: old });
      }
      if (request.method === 'POST' && path.startsWith('/compatibility/')) {
        compatibilityCalls.push(subject ?? '?');
        return reply(200, { is_compatible: subject !== 'images.detected-value' });
      }
      reply(404, { message: `unexpected ${request.method} ${path}` });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('every subject is checked, each with its event type; new, compatible and incompatible reported', async () => {
    const results = await checkEventSchemas(url, schemas);
    assert.deepEqual(
      results.map((r) => [r.subject, r.eventType]),
      eventSubjects().map((s) => [s.subject, s.eventType]),
    );
    const bySubject = new Map(results.map((r) => [r.subject, r]));
    assert.deepEqual(bySubject.get('images.uploaded-value'), {
      subject: 'images.uploaded-value',
      eventType: 'ImageUploaded',
      status: 'new',
      messages: [],
    });
    assert.equal(bySubject.get('images.analyzed-value')?.status, 'compatible');
    assert.equal(bySubject.get('images.analyzed-value')?.latestVersion, 2);
    const detected = bySubject.get('images.detected-value')!;
    assert.equal(detected.status, 'incompatible');
    assert.match(detected.messages[0] ?? '', /imageId/);
    assert.equal(compatibilityCalls.length, eventSubjects().length - 1, 'no compatibility call for a new subject');
  });

  test('a registry URL as a string works as well as a client', async () => {
    const result = await checkSchemaCompatibility(url, 'images.faces-value', schemas.FacesDetected.text);
    assert.equal(result.status, 'compatible');
  });
});
