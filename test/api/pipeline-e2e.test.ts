import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { STAGES } from '@imgpipe/contracts';
import { SsrfGuard } from '@imgpipe/egress';
import { preprocess } from '@imgpipe/vision';
import { verifyWebhook } from '@imgpipe/webhooks';
import sharp from 'sharp';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import {
  bearer,
  DOG_JPEG,
  deleteTenantImages,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uniqueJpeg,
} from './support.ts';

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads an SSE response until it ends (the API ends it after the `result` event) or the deadline passes. */
async function readEvents(response: Response, timeoutMs: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

describe('upload to result through the running pipeline', () => {
  let services: Map<string, PipelineService>;
  let api: TestApi;
  let receiver: Server;
  let callbackUrl: string;
  const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
  const tenant = testTenant('e2e');

  before(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200);
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/imgpipe-hook`;
    // Test-only allowlist, in the API (callback check) and the results service (delivery): the receiver is on loopback.
    services = await startServices([...STAGES, 'results'], {
      IMGPIPE_EGRESS_ALLOW: '127.0.0.1/32',
      IMGPIPE_WEBHOOK_POLL_MS: '200',
    });
    api = await startTestApi({ guard: new SsrfGuard({ allow: ['127.0.0.1/32'] }) });
  });

  after(async () => {
    if (api) await deleteTenantImages(api.api, [tenant]).catch(() => undefined);
    await api?.close();
    if (services) await stopServices(services);
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('202, then SSE shows the stages, then COMPLETED with results; annotated draws boxes; webhook signed', async () => {
    const bytes = uniqueJpeg(DOG_JPEG);
    const upload = await fetch(`${api.url}/v1/images?callbackUrl=${encodeURIComponent(callbackUrl)}`, {
      method: 'POST',
      headers: {
        ...bearer(tokenFor(tenant)),
        'content-type': 'image/jpeg',
        'content-disposition': 'inline; filename="dog.jpg"',
      },
      body: bytes,
    });
    assert.equal(upload.status, 202);
    const accepted = (await upload.json()) as { imageId: string; status: string };
    assert.equal(accepted.status, 'pending');
    assert.equal(upload.headers.get('location'), `/v1/images/${accepted.imageId}`);

    const viewer = bearer(tokenFor(tenant, 'viewer'));
    const stream = await fetch(`${api.url}/v1/images/${accepted.imageId}/events`, { headers: viewer });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = await readEvents(stream, 300_000);

    assert.equal(events[0]?.event, 'image', 'the stream opens with the current state');
    const stageEvents = events.filter((event) => event.event === 'stage');
    const stagesSeen = new Set(stageEvents.map((event) => event.data['stage']));
    console.log(
      `SSE: ${events.map((event) => `${event.event}${event.data['stage'] ? `:${event.data['stage']}` : ''}`).join(' ')}`,
    );
    assert.ok(stagesSeen.has('preprocess'), `stage events: ${[...stagesSeen].join(', ')}`);
    assert.ok(stagesSeen.size >= 2, `stage events: ${[...stagesSeen].join(', ')}`);
    for (const event of stageEvents) assert.ok(STAGES.includes(event.data['stage'] as never));

    const last = events.at(-1);
    assert.equal(last?.event, 'result', 'the stream ends with the result');
    const result = last!.data as {
      status: string;
      objects: { label: string; box: { x: number; y: number; width: number; height: number } }[];
      stages: Record<string, { status: string }>;
      image: { width: number; height: number };
    };
    assert.equal(result.status, 'completed');
    for (const stage of STAGES) assert.equal(result.stages[stage]?.status, 'completed', stage);
    assert.ok(
      result.objects.some((object) => object.label === 'dog'),
      'a dog was detected',
    );

    const view = (await (await fetch(`${api.url}/v1/images/${accepted.imageId}`, { headers: viewer })).json()) as {
      status: string;
      objects: unknown[];
      image?: { scene?: unknown };
    };
    assert.equal(view.status, 'completed');
    assert.deepEqual(view.objects, result.objects);
    // The texture and composition measures reach the view unchanged: what preprocess finds in the same bytes here.
    const { info } = await preprocess(bytes);
    assert.ok(info.scene, 'preprocess measures the scene');
    assert.deepEqual(view.image?.scene, info.scene);

    const annotated = await fetch(`${api.url}/v1/images/${accepted.imageId}/annotated`, { headers: viewer });
    assert.equal(annotated.status, 200);
    assert.equal(annotated.headers.get('content-type'), 'image/png');
    const drawn = Buffer.from(await annotated.arrayBuffer());
    const { width, height } = result.image;
    const [after_, before_] = await Promise.all([
      sharp(drawn).removeAlpha().raw().toBuffer({ resolveWithObject: true }),
      sharp(DOG_JPEG).autoOrient().resize(width, height).removeAlpha().raw().toBuffer({ resolveWithObject: true }),
    ]);
    assert.deepEqual([after_.info.width, after_.info.height], [width, height]);
    // Along the dog's box outline the annotated image must differ from the original: the box is drawn there.
    const dog = result.objects.find((object) => object.label === 'dog')!.box;
    let changed = 0;
    let sampled = 0;
    const y = Math.min(height - 1, Math.max(0, Math.round(dog.y + dog.height)));
    for (let x = Math.ceil(dog.x); x < dog.x + dog.width; x += 2) {
      const offset = (y * width + x) * 3;
      const difference =
        Math.abs(after_.data[offset]! - before_.data[offset]!) +
        Math.abs(after_.data[offset + 1]! - before_.data[offset + 1]!) +
        Math.abs(after_.data[offset + 2]! - before_.data[offset + 2]!);
      sampled++;
      if (difference > 60) changed++;
    }
    assert.ok(changed / sampled > 0.8, `box outline drawn on ${changed}/${sampled} sampled pixels`);

    // The completion webhook reached the receiver, signed with the tenant's secret.
    const deadline = Date.now() + 60_000;
    while (deliveries.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const webhookLog = services.get('results')!.lines.filter((line) => line.includes('webhook'));
    assert.equal(deliveries.length, 1, `one webhook delivery; results service said:\n${webhookLog.join('\n')}`);
    const settings = (await (
      await fetch(`${api.url}/v1/webhook`, { headers: bearer(tokenFor(tenant, 'admin')) })
    ).json()) as { secret: string };
    const delivery = deliveries[0]!;
    assert.ok(verifyWebhook({ headers: delivery.headers, body: delivery.body, secret: settings.secret }));
    const payload = JSON.parse(delivery.body) as { type: string; data: { imageId: string; status: string } };
    assert.equal(payload.type, 'image.completed');
    assert.equal(payload.data.imageId, accepted.imageId);
  });
});
