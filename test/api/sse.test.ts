import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ResultsCache } from '@imgpipe/results';
import {
  bearer,
  deleteTenantImages,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

/** An SSE reader that hands out events one at a time. */
function eventReader(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<{ event: string; data: Record<string, unknown> } | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) return { event, data: JSON.parse(data) as Record<string, unknown> };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += value;
      }
    },
  };
}

describe('Server-Sent Events of progress', () => {
  let api: TestApi;
  const tenant = testTenant('sse');
  before(async () => {
    api = await startTestApi();
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  test('the current state first, then each stage the results service announces, then the result, then the end', async () => {
    const { imageId } = (await (await uploadRaw(api.url, tokenFor(tenant), uniqueJpeg())).json()) as {
      imageId: string;
    };
    const response = await fetch(`${api.url}/v1/images/${imageId}/events`, {
      headers: bearer(tokenFor(tenant, 'viewer')),
    });
    assert.equal(response.status, 200);
    const events = eventReader(response);
    const first = await events.next();
    assert.equal(first?.event, 'image');
    assert.equal(first?.data['status'], 'pending');

    // What the results service does after materialising a change: publish on the image's progress channel.
    const cache = new ResultsCache(api.api.deps.redis);
    const updatedAt = new Date().toISOString();
    await cache.publishProgress(tenant, imageId, {
      imageId,
      status: 'pending',
      stage: 'preprocess',
      stageStatus: 'completed',
      updatedAt,
    });
    const stage = await events.next();
    assert.equal(stage?.event, 'stage');
    assert.equal(stage?.data['stage'], 'preprocess');
    assert.equal(stage?.data['stageStatus'], 'completed');

    await api.api.deps.db.updateTable('images').set({ status: 'failed' }).where('id', '=', imageId).execute();
    await cache.publishProgress(tenant, imageId, { imageId, status: 'failed', updatedAt: new Date().toISOString() });
    assert.equal((await events.next())?.event, 'image');
    const result = await events.next();
    assert.equal(result?.event, 'result');
    assert.equal(result?.data['status'], 'failed');
    assert.equal(await events.next(), undefined, 'the stream ends after the result');
  });

  test('a finished image gets its state and result at once; a stopping server ends open streams', async () => {
    const { imageId } = (await (await uploadRaw(api.url, tokenFor(tenant), uniqueJpeg())).json()) as {
      imageId: string;
    };
    await api.api.deps.db.updateTable('images').set({ status: 'completed' }).where('id', '=', imageId).execute();
    const done = eventReader(
      await fetch(`${api.url}/v1/images/${imageId}/events`, { headers: bearer(tokenFor(tenant, 'viewer')) }),
    );
    assert.equal((await done.next())?.event, 'image');
    assert.equal((await done.next())?.event, 'result');
    assert.equal(await done.next(), undefined);

    const other = await startTestApi();
    const pending = (await (await uploadRaw(other.url, tokenFor(tenant), uniqueJpeg())).json()) as { imageId: string };
    const open = eventReader(
      await fetch(`${other.url}/v1/images/${pending.imageId}/events`, { headers: bearer(tokenFor(tenant, 'viewer')) }),
    );
    assert.equal((await open.next())?.event, 'image');
    await other.close();
    assert.equal(await open.next(), undefined, 'the stream ended when the server stopped');
  });
});
