import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, hasRole, request, type Role, sendJson, type User } from '../api.ts';

interface ApiKey {
  id: string;
  role: Role;
  name: string;
  createdAt: string;
  revokedAt?: string;
}

function message(caught: unknown): string {
  return caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'The request failed.';
}

/**
 * The tenant's API keys for machine clients (GET/POST /v1/api-keys, DELETE /v1/api-keys/{id}): list, create and
 * revoke. The API answers a new key's secret once, at creation; the page shows it until the next action and never
 * again.
 */
export function ApiKeysPage({ user, setTitle }: { user: User; setTitle: (title: string) => void }) {
  useEffect(() => setTitle('API keys'), []);
  const [items, setItems] = useState<ApiKey[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('uploader');
  const [created, setCreated] = useState<{ name: string; key: string } | undefined>();
  const admin = hasRole(user, 'admin');
  const load = () =>
    getJson<{ items: ApiKey[] }>('/v1/api-keys')
      .then((answer) => setItems(answer.items))
      .catch((caught: unknown) => setError(message(caught)));
  useEffect(() => {
    if (admin) void load();
  }, []);
  if (!admin) {
    return (
      <>
        <h1>API keys</h1>
        <p>This page is for admins.</p>
      </>
    );
  }
  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const answer = await sendJson<ApiKey & { key: string }>('POST', '/v1/api-keys', {
        role,
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      setCreated({ name: answer.name, key: answer.key });
      setName('');
      await load();
    } catch (caught) {
      setError(message(caught));
    }
  };
  const revoke = async (key: ApiKey) => {
    setError(undefined);
    setCreated(undefined);
    try {
      const response = await request(`/v1/api-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
      if (!response.ok) throw new ApiError({ status: response.status, code: `HTTP_${response.status}` });
      await load();
    } catch (caught) {
      setError(message(caught));
    }
  };
  return (
    <>
      <h1>API keys</h1>
      <p>Keys let machine clients call the API with a role of their own (send one as X-API-Key).</p>
      <h2 id="new-key-heading">New key</h2>
      <form class="inline" onSubmit={create} aria-labelledby="new-key-heading">
        <label>
          Name
          <input type="text" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option value="viewer">viewer</option>
            <option value="uploader">uploader</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit">Create key</button>
      </form>
      {created ? (
        <div class="notice" role="status" data-testid="new-key">
          <p>
            The key <strong>{created.name}</strong> is shown only now; copy it somewhere safe:
          </p>
          <code data-testid="new-key-secret">{created.key}</code>{' '}
          <button type="button" class="secondary" onClick={() => void navigator.clipboard?.writeText(created.key)}>
            Copy key
          </button>
        </div>
      ) : null}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {items ? (
        <section aria-labelledby="keys-heading">
          <h2 id="keys-heading">Keys</h2>
          {items.length === 0 ? <p>No keys yet.</p> : null}
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {items.map((key) => (
                  <tr key={key.id} data-key-id={key.id}>
                    <th scope="row" class="name">
                      {key.name}
                    </th>
                    <td>
                      <code>{key.id}</code>
                    </td>
                    <td>{key.role}</td>
                    <td>{new Date(key.createdAt).toLocaleString()}</td>
                    <td>
                      {key.revokedAt ? (
                        `revoked ${new Date(key.revokedAt).toLocaleString()}`
                      ) : (
                        <button
                          type="button"
                          class="secondary"
                          onClick={() => revoke(key)}
                          aria-label={`Revoke ${key.name || key.id}`}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </>
  );
}
