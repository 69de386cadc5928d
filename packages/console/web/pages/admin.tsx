import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, hasRole, sendJson, type User } from '../api.ts';
import { BASE, linkClick } from '../router.ts';
import type { ImageSummary, SearchPage } from '../types.ts';

interface StageMetrics {
  lag: number;
  deadLetters: number;
  throughputPerSecond?: number;
  errorRate?: number;
  windowSeconds?: number;
}

interface StageState {
  stage: string;
  paused: boolean;
  changedAt?: string;
  changedBy?: string;
  model?: { name: string; version: string };
  metrics?: StageMetrics;
}

/** How often the operations page reads the stages again (their rates cover the span between readings). */
const STAGES_REFRESH_MS = 10_000;

function message(caught: unknown): string {
  return caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'The request failed.';
}

/**
 * Failed images with their codes and a redrive per image: POST /v1/admin/images/{id}/redrive re-runs that image's
 * failed stages (and nothing of any other image).
 */
function Failures() {
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
      const answer = await sendJson<{ stages: string[]; queued: number }>(
        'POST',
        `/v1/admin/images/${encodeURIComponent(item.imageId)}/redrive`,
        {},
      );
      setOutcome((was) => ({ ...was, [item.imageId]: `Redrove ${answer.stages.join(', ')}: queued again.` }));
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

function rate(value: number | undefined, digits: number): string {
  return value === undefined ? '–' : value.toFixed(digits);
}

/**
 * Each stage's state, throughput, lag and error rate (GET /v1/admin/stages, operator tenants; the figures are read
 * from Kafka by the API), read again every 10 s, with pause and resume.
 */
function Stages() {
  const [items, setItems] = useState<StageState[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const timer = useRef<ReturnType<typeof setInterval> | undefined>(undefined);
  const load = () =>
    getJson<{ items: StageState[] }>('/v1/admin/stages')
      .then((answer) => {
        setItems(answer.items);
        setError(undefined);
      })
      .catch((caught: unknown) => {
        setError(message(caught));
        // Not an operator tenant's admin: asking again will not change that.
        if (caught instanceof ApiError && caught.status === 403) clearInterval(timer.current);
      });
  useEffect(() => {
    void load();
    timer.current = setInterval(() => void load(), STAGES_REFRESH_MS);
    return () => clearInterval(timer.current);
  }, []);
  const act = async (stage: string, action: 'pause' | 'resume') => {
    try {
      await sendJson('POST', `/v1/admin/stages/${stage}/${action}`, {});
      await load();
    } catch (caught) {
      setError(message(caught));
    }
  };
  const span = items?.find((item) => item.metrics?.windowSeconds !== undefined)?.metrics?.windowSeconds;
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
            <caption>
              {span === undefined
                ? 'Throughput and error rate appear at the next reading (every 10 s).'
                : `Throughput and error rate over the last ${span} s; lag and dead letters now.`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Stage</th>
                <th scope="col">State</th>
                <th scope="col">Model</th>
                <th scope="col">Messages/s</th>
                <th scope="col">Lag</th>
                <th scope="col">Error rate</th>
                <th scope="col">Dead letters</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.stage} data-stage={item.stage}>
                  <th scope="row">{item.stage}</th>
                  <td>{item.paused ? `paused${item.changedBy ? ` by ${item.changedBy}` : ''}` : 'running'}</td>
                  <td>{item.model ? `${item.model.name} ${item.model.version}` : ''}</td>
                  <td class="number" data-metric="throughput">
                    {rate(item.metrics?.throughputPerSecond, 2)}
                  </td>
                  <td class="number" data-metric="lag">
                    {item.metrics ? String(item.metrics.lag) : '–'}
                  </td>
                  <td class="number" data-metric="error-rate">
                    {item.metrics?.errorRate === undefined ? '–' : `${(item.metrics.errorRate * 100).toFixed(1)}%`}
                  </td>
                  <td class="number" data-metric="dead-letters">
                    {item.metrics ? String(item.metrics.deadLetters) : '–'}
                  </td>
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
      <Failures />
      <Stages />
      <Users />
    </>
  );
}
