import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { generateWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from './signature.ts';

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
