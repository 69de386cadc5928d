import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, hasRole, sendJson, type User } from '../api.ts';

interface WebhookSettings {
  url?: string;
  secret: string;
  updatedAt: string;
}

function message(caught: unknown): string {
  return caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'The request failed.';
}

/**
 * The tenant's webhook settings (GET/PUT /v1/webhook, POST /v1/webhook/rotate-secret): the default callback URL for
 * images that name none (checked by the API's egress guard before it is saved), and the signing secret, hidden until
 * asked for, which can be rotated.
 */
export function WebhookPage({ user, setTitle }: { user: User; setTitle: (title: string) => void }) {
  useEffect(() => setTitle('Webhook'), []);
  const [settings, setSettings] = useState<WebhookSettings | undefined>();
  const [url, setUrl] = useState('');
  const [shown, setShown] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [saved, setSaved] = useState('');
  const admin = hasRole(user, 'admin');
  const take = (answer: WebhookSettings) => {
    setSettings(answer);
    setUrl(answer.url ?? '');
  };
  useEffect(() => {
    if (admin) {
      getJson<WebhookSettings>('/v1/webhook')
        .then(take)
        .catch((caught: unknown) => setError(message(caught)));
    }
  }, []);
  if (!admin) {
    return (
      <>
        <h1>Webhook</h1>
        <p>This page is for admins.</p>
      </>
    );
  }
  const act = async (action: () => Promise<WebhookSettings>, done: string) => {
    setError(undefined);
    setSaved('');
    try {
      take(await action());
      setSaved(done);
    } catch (caught) {
      setError(message(caught));
    }
  };
  const save = (event: Event) => {
    event.preventDefault();
    void act(
      () => sendJson<WebhookSettings>('PUT', '/v1/webhook', { url: url.trim() === '' ? null : url.trim() }),
      url.trim() === '' ? 'The default callback URL was cleared.' : 'The default callback URL was saved.',
    );
  };
  return (
    <>
      <h1>Webhook</h1>
      <p>
        When an image finishes, imgpipe posts its result to the image's callback URL, or to this default one, signed
        with the secret below (HMAC-SHA256).
      </p>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <p role="status">{saved}</p>
      {settings ? (
        <>
          <form class="inline" onSubmit={save}>
            <label>
              Default callback URL
              <input
                type="url"
                value={url}
                placeholder="https://example.com/hooks/imgpipe"
                maxLength={2048}
                onInput={(e) => setUrl(e.currentTarget.value)}
              />
            </label>
            <button type="submit">Save URL</button>
          </form>
          <section aria-labelledby="secret-heading">
            <h2 id="secret-heading">Signing secret</h2>
            <p>
              <code data-testid="webhook-secret">{shown ? settings.secret : '••••••••••••••••'}</code>{' '}
              <button type="button" class="secondary" onClick={() => setShown(!shown)}>
                {shown ? 'Hide secret' : 'Show secret'}
              </button>{' '}
              <button
                type="button"
                class="secondary"
                onClick={() =>
                  void act(
                    () => sendJson<WebhookSettings>('POST', '/v1/webhook/rotate-secret', {}),
                    'The secret was rotated: deliveries from now on are signed with the new one.',
                  )
                }
              >
                Rotate secret
              </button>
            </p>
            <p class="muted">Last changed {new Date(settings.updatedAt).toLocaleString()}.</p>
          </section>
        </>
      ) : null}
    </>
  );
}
