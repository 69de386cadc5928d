import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  DEFAULT_TOLERANCE_SECONDS,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
} from './signature.ts';

test('a signature verifies, and fails for another body, secret or an old timestamp', () => {
  const secret = generateWebhookSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]{44}$/);
  const body = '{"type":"image.completed"}';
  const now = new Date('2026-01-01T00:00:00Z');
  const headers = webhookHeaders({ id: 'delivery-1', body, secret, now });
  assert.equal(headers['webhook-timestamp'], String(now.getTime() / 1000));
  assert.ok(verifyWebhook({ headers: { ...headers }, body, secret, now }));
  assert.equal(verifyWebhook({ headers: { ...headers }, body: `${body} `, secret, now }), false);
  assert.equal(verifyWebhook({ headers: { ...headers }, body, secret: generateWebhookSecret(), now }), false);
  const later = new Date(now.getTime() + 10 * 60_000);
  assert.equal(verifyWebhook({ headers: { ...headers }, body, secret, now: later }), false, 'replay after 10 min');
  // Several signatures (key rotation): any one matching is enough.
  const rotated = { ...headers, 'webhook-signature': `v1,bm9wZQ== ${headers['webhook-signature']}` };
  assert.ok(verifyWebhook({ headers: rotated, body, secret, now }));
});

test('the signed content is id.timestamp.body (Standard Webhooks)', () => {
  const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
  const expected = createHmac('sha256', Buffer.from('0123456789abcdef0123456789abcdef'))
    .update('msg_1.1700000000.{}')
    .digest('base64');
  assert.equal(signWebhook({ id: 'msg_1', timestamp: 1700000000, body: '{}', secret }), `v1,${expected}`);
});

test('the timestamp must be within the tolerance on either side: a timestamp far in the future is refused', () => {
  const secret = generateWebhookSecret();
  const body = '{}';
  const sent = new Date('2026-01-01T00:00:00Z');
  const headers = { ...webhookHeaders({ id: 'd', body, secret, now: sent }) };
  const at = (offsetSeconds: number) => new Date(sent.getTime() + offsetSeconds * 1000);
  assert.equal(DEFAULT_TOLERANCE_SECONDS, 300);
  // A receiver whose clock is behind the sender's sees the timestamp in the future.
  assert.equal(verifyWebhook({ headers, body, secret, now: at(-3600) }), false, 'an hour ahead');
  assert.equal(verifyWebhook({ headers, body, secret, now: at(-10 * 365 * 86_400) }), false, 'years ahead');
  assert.equal(verifyWebhook({ headers, body, secret, now: at(-301) }), false, '301 s ahead');
  assert.ok(verifyWebhook({ headers, body, secret, now: at(-300) }), '300 s ahead');
  assert.ok(verifyWebhook({ headers, body, secret, now: at(300) }), '300 s old');
  // Receivers compare whole seconds: 300.9 s is still 300.
  assert.ok(verifyWebhook({ headers, body, secret, now: at(300.9) }), '300.9 s old');
  assert.equal(verifyWebhook({ headers, body, secret, now: at(301) }), false, '301 s old');
  assert.ok(verifyWebhook({ headers, body, secret, now: at(-20), toleranceSeconds: 20 }), 'custom tolerance');
  assert.equal(verifyWebhook({ headers, body, secret, now: at(21), toleranceSeconds: 20 }), false);
});

test('missing or malformed headers are refused; header arrays use their first value', () => {
  const secret = generateWebhookSecret();
  const body = '{"a":1}';
  const now = new Date('2026-03-01T12:00:00Z');
  const headers = webhookHeaders({ id: 'd-2', body, secret, now });
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
    assert.equal(verifyWebhook({ headers: { ...headers, [name]: undefined }, body, secret, now }), false, name);
    assert.equal(verifyWebhook({ headers: { ...headers, [name]: '' }, body, secret, now }), false, name);
  }
  for (const timestamp of [`${headers['webhook-timestamp']}.5`, `-${headers['webhook-timestamp']}`, '1e9', 'now']) {
    assert.equal(
      verifyWebhook({ headers: { ...headers, 'webhook-timestamp': timestamp }, body, secret, now }),
      false,
      timestamp,
    );
  }
  const asArrays = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value, 'other']]));
  assert.ok(verifyWebhook({ headers: asArrays, body, secret, now }));
  const wrongFirst = { ...asArrays, 'webhook-signature': ['v1,bm9wZQ==', headers['webhook-signature']] };
  assert.equal(verifyWebhook({ headers: wrongFirst, body, secret, now }), false);
  assert.equal(
    verifyWebhook({ headers: { ...headers, 'webhook-id': 'd-3' }, body, secret, now }),
    false,
    'the id is signed',
  );
  // No id is no id, even when the signature was made over the text "undefined".
  const { 'webhook-id': _, ...noId } = webhookHeaders({ id: 'undefined', body, secret, now });
  assert.equal(verifyWebhook({ headers: noId, body, secret, now }), false, 'missing webhook-id');
});

test('secrets: whsec_ and 32 random bytes; the key is the decoded bytes, with or without the prefix', () => {
  const secret = generateWebhookSecret();
  assert.equal(Buffer.from(secret.slice('whsec_'.length), 'base64').length, 32);
  assert.notEqual(generateWebhookSecret(), secret);
  const bare = secret.slice('whsec_'.length);
  const input = { id: 'x', timestamp: 1_700_000_000, body: 'b' };
  assert.equal(signWebhook({ ...input, secret }), signWebhook({ ...input, secret: bare }));
  const expected = createHmac('sha256', Buffer.from(bare, 'base64')).update('x.1700000000.b').digest('base64');
  assert.equal(signWebhook({ ...input, secret: bare }), `v1,${expected}`);
});

test('the timestamp header is whole seconds, rounded down', () => {
  const headers = webhookHeaders({ id: 'i', body: '', secret: 'whsec_AAAA', now: new Date(1_700_000_000_999) });
  assert.equal(headers['webhook-timestamp'], '1700000000');
  assert.equal(headers['webhook-id'], 'i');
});
