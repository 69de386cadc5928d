/**
 * EventCodec against the real schema registry: registration, a round trip of every event type with the id the
 * registry assigned, and every way decoding can fail.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import {
  composeWireMessage,
  DEAD_LETTER_TOPICS,
  EVENT_TYPE_NAMES,
  EventCodec,
  type EventType,
  eventSubjects,
  exampleEvents,
  loadEventSchemas,
  type RegisteredSubject,
  RegistryHttp,
  subjectFor,
  TOPICS,
} from '@imgpipe/contracts';
import {
  deleteThrowawaySubjects,
  registerRaw,
  registryHttp,
  registryUrl,
  throwawaySubject,
  withExtraField,
} from './registry-fixtures.ts';

function failsWith(code: string, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ImgpipeError, `expected an ImgpipeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

/** A local port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A proxy in front of the real registry that swallows everything sent on its first connection: the stall seen with
 * the local registry (a request answered, then nothing more on that connection).
 */
async function stallingProxy(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const target = new URL(registryUrl);
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy = createServer((client) => {
    sockets.add(client);
    if (++connections === 1) return;
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/** A server that accepts connections and never answers: what a registry still starting can do. */
async function silentServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/apis/ccompat/v7`,
    connections: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    },
  };
}

async function registeredId(subject: string): Promise<number> {
  const latest = await registryHttp.latest(subject);
  assert.ok(latest, `${subject} is not registered`);
  return latest.id;
}

describe('EventCodec with the schema registry', () => {
  const codec = new EventCodec({ registryUrl });
  let registered: RegisteredSubject[];

  before(async () => {
    registered = await codec.register();
  });

  after(async () => {
    await deleteThrowawaySubjects();
  });

  test('register() puts every event schema under <topic>-value for every topic that carries it', async () => {
    assert.deepEqual(
      registered.map((r) => r.subject),
      eventSubjects().map((s) => s.subject),
    );
    assert.equal(registered.filter((r) => r.eventType === 'DeadLetter').length, DEAD_LETTER_TOPICS.length);
    for (const r of registered) {
      const latest = await registryHttp.latest(r.subject);
      assert.equal(latest?.id, r.id, `${r.subject}: id`);
      assert.equal(latest?.version, r.version, `${r.subject}: version`);
      assert.equal(await registryHttp.compatibilityLevel(r.subject), 'BACKWARD');
    }
  });

  test('register() is idempotent: a second run keeps every id and version', async () => {
    const again = await new EventCodec({ registryUrl }).register();
    assert.deepEqual(again, registered);
  });

  for (const eventType of EVENT_TYPE_NAMES) {
    test(`${eventType} round-trips through the wire format under its subject's registry id`, async () => {
      const event = exampleEvents()[eventType];
      const bytes = await codec.encode(eventType, event as never);
      const subject = codec.subjectOf(eventType, event as never);
      assert.equal(bytes[0], 0, 'magic byte');
      assert.equal(bytes.readInt32BE(1), await registeredId(subject), `schema id in the bytes is ${subject}'s`);
      // A fresh codec has nothing cached: it must fetch the writer schema by id from the registry.
      const decoded = await new EventCodec({ registryUrl }).decode(bytes);
      assert.equal(decoded.eventType, eventType);
      assert.equal(decoded.schemaId, bytes.readInt32BE(1));
      assert.deepStrictEqual(decoded.value, event);
    });
  }

  test('a DeadLetter goes under its stage’s dead-letter subject, or the topic given', async () => {
    const letter = { ...exampleEvents().DeadLetter, stage: 'ocr' as const };
    assert.equal(codec.subjectOf('DeadLetter', letter), 'imgpipe.ocr.dlq-value');
    const bytes = await codec.encode('DeadLetter', letter);
    assert.equal(bytes.readInt32BE(1), await registeredId('imgpipe.ocr.dlq-value'));
    const toResults = await codec.encode('DeadLetter', letter, { topic: 'imgpipe.results.dlq' });
    assert.equal(toResults.readInt32BE(1), await registeredId('imgpipe.results.dlq-value'));
    assert.deepStrictEqual((await codec.decode(toResults)).value, letter);
  });

  test('minimal events (optionals absent) round-trip without gaining null fields', async () => {
    const minimal = {
      imageId: '5f0c4a55-8d7e-4a3b-9a8f-0c2d7e1b9a10',
      tenantId: 't1',
      occurredAt: Date.now(),
      inline: Buffer.from([0xff, 0xd8, 0xff]),
      sha256: '0'.repeat(64),
      size: 3,
      analyses: [],
      attributes: {},
      renditions: [],
    };
    const decoded = await codec.decode(await codec.encode('ImageUploaded', minimal));
    assert.deepStrictEqual(decoded.value, minimal);
  });

  test('an unknown schema id is CODEC_UNKNOWN_SCHEMA', async () => {
    const body = loadEventSchemas().ImageUploaded.type.toBuffer({ ...exampleEvents().ImageUploaded });
    await assert.rejects(
      codec.decode(composeWireMessage(0x7fffffff, body)),
      failsWith('CODEC_UNKNOWN_SCHEMA', /no schema with id 2147483647/),
    );
  });

  test('a registered schema that is not an imgpipe event is CODEC_UNKNOWN_SCHEMA', async () => {
    const foreign = JSON.stringify({
      type: 'record',
      name: 'Order',
      namespace: 'com.example',
      fields: [{ name: 'id', type: 'string' }],
    });
    const id = await registerRaw(throwawaySubject('foreign'), foreign);
    await assert.rejects(
      codec.decode(composeWireMessage(id, Buffer.from([2, 0x41]))),
      failsWith('CODEC_UNKNOWN_SCHEMA', /com\.example\.Order, not an imgpipe event/),
    );
  });

  test('bytes without the magic byte are CODEC_MISSING_MAGIC_BYTE', async () => {
    const json = Buffer.from(JSON.stringify({ imageId: 'x' }));
    await assert.rejects(codec.decode(json), failsWith('CODEC_MISSING_MAGIC_BYTE', /looks like JSON/));
    // Plain Avro from a producer that skipped the registry: starts with the length of imageId (zig-zag 72, 'H').
    const plainAvro = loadEventSchemas().ImageUploaded.type.toBuffer(exampleEvents().ImageUploaded);
    await assert.rejects(codec.decode(plainAvro), failsWith('CODEC_MISSING_MAGIC_BYTE', /0x48/));
  });

  test('truncated messages are CODEC_TRUNCATED: inside the header, right after it, or inside the body', async () => {
    const bytes = await codec.encode('ImageAnalyzed', exampleEvents().ImageAnalyzed);
    await assert.rejects(codec.decode(bytes.subarray(0, 3)), failsWith('CODEC_TRUNCATED', /3 byte\(s\)/));
    await assert.rejects(codec.decode(bytes.subarray(0, 5)), failsWith('CODEC_TRUNCATED', /no Avro body/));
    await assert.rejects(
      codec.decode(bytes.subarray(0, bytes.length - 10)),
      failsWith('CODEC_TRUNCATED', /ImageAnalyzed \(schema id \d+\) body/),
    );
  });

  test('a body that does not match its schema is CODEC_INVALID_PAYLOAD', async () => {
    const bytes = await codec.encode('ImageUploaded', exampleEvents().ImageUploaded);
    await assert.rejects(codec.decode(Buffer.concat([bytes, Buffer.from([1, 2])])), failsWith('CODEC_INVALID_PAYLOAD'));
  });

  test('an event that does not match its schema is refused before anything is sent', async () => {
    const bad = { ...exampleEvents().ObjectsDetected, occurredAt: 'yesterday' };
    await assert.rejects(
      codec.encode('ObjectsDetected', bad as never),
      failsWith('CODEC_INVALID_PAYLOAD', /occurredAt/),
    );
  });

  test('data written by an older or a newer producer is read into the current shape', async () => {
    const current = loadEventSchemas().ImageUploaded;
    const upload = exampleEvents().ImageUploaded;
    // Newer producer: one more optional field, which this consumer does not know and skips.
    const newer = withExtraField(current.text, {
      name: 'priority',
      type: ['null', 'int'],
      default: null,
      doc: 'A field from the future.',
    });
    const newerId = await registerRaw(throwawaySubject('newer'), newer);
    const newerType = (await import('avsc')).default.Type.forSchema(JSON.parse(newer));
    const fromNewer = await codec.decode(composeWireMessage(newerId, newerType.toBuffer({ ...upload, priority: 3 })));
    assert.deepStrictEqual(fromNewer.value, upload);
    // Older producer: without callbackUrl and attributes; the reader fills in the defaults.
    const olderSchema = JSON.parse(current.text) as { fields: { name: string }[] };
    olderSchema.fields = olderSchema.fields.filter((f) => f.name !== 'callbackUrl' && f.name !== 'attributes');
    const olderId = await registerRaw(throwawaySubject('older'), JSON.stringify(olderSchema));
    const olderType = (await import('avsc')).default.Type.forSchema(olderSchema as never);
    const fromOlder = await codec.decode(composeWireMessage(olderId, olderType.toBuffer(upload)));
    const { callbackUrl: _dropped, ...withoutCallback } = upload;
    assert.deepStrictEqual(fromOlder.value, { ...withoutCallback, attributes: {} });
  });

  test('encode() registers lazily under a new subject, or refuses when auto-registration is off', async () => {
    const subject = throwawaySubject('lazy');
    const topic = subject.slice(0, -'-value'.length);
    const strict = new EventCodec({ registryUrl, autoRegister: false });
    await assert.rejects(
      strict.encode('TextRecognized', exampleEvents().TextRecognized, { topic }),
      failsWith('CODEC_UNKNOWN_SCHEMA', /not registered under .*imgpipe schemas register/),
    );
    const bytes = await codec.encode('TextRecognized', exampleEvents().TextRecognized, { topic });
    assert.equal(subjectFor(topic), subject);
    assert.equal(bytes.readInt32BE(1), await registeredId(subject));
    const again = await strict.encode('TextRecognized', exampleEvents().TextRecognized, { topic });
    assert.deepEqual(again, bytes);
  });

  test('concurrent first encodes share one id lookup and agree', async () => {
    const fresh = new EventCodec({ registryUrl });
    const events = EVENT_TYPE_NAMES.flatMap((eventType: EventType) => [eventType, eventType]);
    const encoded = await Promise.all(
      events.map((eventType) => fresh.encode(eventType, exampleEvents()[eventType] as never)),
    );
    for (const [index, eventType] of events.entries()) {
      const subject = fresh.subjectOf(eventType, exampleEvents()[eventType] as never);
      assert.equal(encoded[index]!.readInt32BE(1), await registeredId(subject));
    }
  });

  test('an unreachable registry is CODEC_REGISTRY_UNAVAILABLE, which is retriable', async () => {
    const nowhere = new EventCodec({ registryUrl: `http://127.0.0.1:${await closedPort()}/apis/ccompat/v7` });
    const bytes = await codec.encode('ImageUploaded', exampleEvents().ImageUploaded);
    for (const attempt of [
      () => nowhere.decode(bytes),
      () => nowhere.encode('ImageUploaded', exampleEvents().ImageUploaded),
      () => nowhere.register(),
    ]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof ImgpipeError);
        assert.equal(error.code, 'CODEC_REGISTRY_UNAVAILABLE', error.message);
        assert.equal(error.retriable, true);
        assert.match(error.message, /ECONNREFUSED/);
        return true;
      });
    }
  });

  test('a connection to the registry that stalls is dropped after its deadline and the request made again', async () => {
    const proxy = await stallingProxy();
    const through = new EventCodec({ registryUrl: proxy.url, requestTimeoutMs: 500 });
    try {
      const registered = await through.register();
      assert.equal(registered.length, eventSubjects().length);
      const bytes = await through.encode('ImageUploaded', exampleEvents().ImageUploaded);
      assert.deepEqual((await codec.decode(bytes)).value, (await through.decode(bytes)).value);
      assert.ok(proxy.connections() >= 2, `${proxy.connections()} connections`);
    } finally {
      await proxy.close();
    }
  });

  test("imgpipe's own registry requests get past a stalled connection the same way", async () => {
    const proxy = await stallingProxy();
    const subject = subjectFor(TOPICS.uploaded);
    try {
      const through = new RegistryHttp(proxy.url, 500);
      const latest = await through.latest(subject);
      assert.ok(latest, `${subject} is registered`);
      assert.deepEqual(latest, await registryHttp.latest(subject));
      assert.ok(proxy.connections() >= 2, `${proxy.connections()} connections`);
    } finally {
      await proxy.close();
    }
  });

  test('a registry that accepts connections and never answers is CODEC_REGISTRY_UNAVAILABLE, not a hang', {
    timeout: 30_000,
  }, async () => {
    const silent = await silentServer();
    const mute = new EventCodec({ registryUrl: silent.url, requestTimeoutMs: 200 });
    const bytes = await codec.encode('ImageUploaded', exampleEvents().ImageUploaded);
    try {
      for (const attempt of [
        () => mute.register(),
        () => mute.decode(bytes),
        () => mute.encode('ImageUploaded', exampleEvents().ImageUploaded),
        () => new RegistryHttp(silent.url, 200).latest(subjectFor(TOPICS.uploaded)),
      ]) {
        await assert.rejects(attempt(), (error: unknown) => {
          assert.ok(error instanceof ImgpipeError);
          assert.equal(error.code, 'CODEC_REGISTRY_UNAVAILABLE', error.message);
          assert.equal(error.retriable, true);
          return true;
        });
      }
      assert.ok(silent.connections() > 0, 'the codec reached the silent registry');
    } finally {
      await silent.close();
    }
  });
});
