import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, hasRole, sendJson, type User } from '../api.ts';
import { BASE, linkClick } from '../router.ts';
import { type ImageSummary, type ImageView, type SearchPage, STAGE_NAMES } from '../types.ts';

interface StageState {
  stage: string;
  paused: boolean;
  changedAt?: string;
  changedBy?: string;
  model?: { name: string; version: string };
  [metric: string]: unknown;
}

function message(caught: unknown): string {
  return caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'The request failed.';
}

/**
 * Failed images with their codes and a redrive per image: the stage that failed is re-run through
 * POST /v1/admin/reprocess (mode `missing`, this tenant, images uploaded since this one), the API's redrive.
 */
function Failures({ user }: { user: User }) {
  const [items, setItems] = useState<ImageSummary[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<Record<string, string>>({});
  const load = async (cursor?: string) => {
    try {
      const page = await getJson<SearchPage>(
        `/v1/images?status=failed&limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      setItems((was) => (cursor ? [...was, ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch (caught) {
      setError(message(caught));
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const redrive = async (item: ImageSummary) => {
    setOutcome((was) => ({ ...was, [item.imageId]: 'Redriving…' }));
    try {
      const view = await getJson<ImageView>(`/v1/images/${item.imageId}`);
      const stage = STAGE_NAMES.find((name) => view.stages[name]?.status === 'failed') ?? 'preprocess';
      const answer = await sendJson<{ queued: number }>('POST', '/v1/admin/reprocess', {
        stage: stage === 'aggregate' ? 'preprocess' : stage,
        mode: 'missing',
        tenant: user.tenantId,
        since: view.createdAt,
      });
      setOutcome((was) => ({ ...was, [item.imageId]: `Redrove ${stage}: ${answer.queued} image(s) queued.` }));
    } catch (caught) {
      setOutcome((was) => ({ ...was, [item.imageId]: message(caught) }));
    }
  };
  return (
    <section aria-labelledby="failures-heading">
      <h2 id="failures-heading">Failed images</h2>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {items.length === 0 && !error ? <p>No failed images.</p> : null}
      <ul class="failures">
        {items.map((item) => {
          const name = item.sourceName ?? item.imageId;
          return (
            <li key={item.imageId} data-image-id={item.imageId}>
              <a href={`${BASE}/images/${item.imageId}`} onClick={linkClick} class="name">
                {name}
              </a>{' '}
              <span class="error-code">{item.error?.code ?? 'failed'}</span>{' '}
              <span class="detail">{item.error?.message}</span>{' '}
              <button type="button" class="secondary" onClick={() => redrive(item)} aria-label={`Redrive ${name}`}>
                Redrive
              </button>{' '}
              <span role="status">{outcome[item.imageId] ?? ''}</span>
            </li>
          );
        })}
      </ul>
      {next ? (
        <button type="button" onClick={() => load(next)}>
          More failures
        </button>
      ) : null}
    </section>
  );
}

/** Each stage's state (GET /v1/admin/stages, operator tenants), with pause and resume. */
function Stages() {
  const [items, setItems] = useState<StageState[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () =>
    getJson<{ items: StageState[] }>('/v1/admin/stages')
      .then((answer) => setItems(answer.items))
      .catch((caught: unknown) => setError(message(caught)));
  useEffect(() => {
    void load();
  }, []);
  const act = async (stage: string, action: 'pause' | 'resume') => {
    try {
      await sendJson('POST', `/v1/admin/stages/${stage}/${action}`, {});
      await load();
    } catch (caught) {
      setError(message(caught));
    }
  };
  const metrics = items
    ? [
        ...new Set(
          items.flatMap((item) =>
            Object.keys(item).filter((key) => !['stage', 'paused', 'changedAt', 'changedBy', 'model'].includes(key)),
          ),
        ),
      ]
    : [];
  return (
    <section aria-labelledby="stages-heading">
      <h2 id="stages-heading">Stages</h2>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {items ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">State</th>
                <th scope="col">Model</th>
                {metrics.map((metric) => (
                  <th scope="col" key={metric}>
                    {metric}
                  </th>
                ))}
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.stage} data-stage={item.stage}>
                  <th scope="row">{item.stage}</th>
                  <td>{item.paused ? `paused${item.changedBy ? ` by ${item.changedBy}` : ''}` : 'running'}</td>
                  <td>{item.model ? `${item.model.name} ${item.model.version}` : ''}</td>
                  {metrics.map((metric) => (
                    <td key={metric}>
                      {typeof item[metric] === 'object' ? JSON.stringify(item[metric]) : String(item[metric] ?? '')}
                    </td>
                  ))}
                  <td>
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => act(item.stage, item.paused ? 'resume' : 'pause')}
                    >
                      {item.paused ? `Resume ${item.stage}` : `Pause ${item.stage}`}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function Users() {
  const [items, setItems] = useState<User[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    getJson<{ items: User[] }>('/v1/users')
      .then((answer) => setItems(answer.items))
      .catch((caught: unknown) => setError(message(caught)));
  }, []);
  return (
    <section aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {items ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id}>
                  <th scope="row">{item.username}</th>
                  <td>{item.role}</td>
                  <td>{item.disabled ? 'disabled' : 'enabled'}</td>
                  <td>{new Date(item.createdAt).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** For admins: failures and redrive, the stages, the users. Other roles see only that the page is not theirs. */
export function AdminPage({ user, setTitle }: { user: User; setTitle: (title: string) => void }) {
  useEffect(() => setTitle('Operations'), []);
  if (!hasRole(user, 'admin')) {
    return (
      <>
        <h1>Operations</h1>
        <p>This page is for admins.</p>
      </>
    );
  }
  return (
    <>
      <h1>Operations</h1>
      <Failures user={user} />
      <Stages />
      <Users />
    </>
  );
}
