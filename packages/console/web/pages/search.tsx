import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from '../api.ts';
import { BASE, linkClick, navigate } from '../router.ts';
import { Thumbnail } from '../thumbnail.tsx';
import type { ImageSummary, SearchPage as Page } from '../types.ts';

const FIELDS = ['label', 'text', 'status', 'since'] as const;

/** The API's search query from the page's query string (since is a date; the API takes an instant). */
function apiQuery(query: URLSearchParams, cursor?: string): string {
  const out = new URLSearchParams();
  for (const field of FIELDS) {
    const value = query.get(field)?.trim();
    if (!value) continue;
    out.set(field, field === 'since' ? new Date(`${value}T00:00:00`).toISOString() : value);
  }
  if (cursor) out.set('cursor', cursor);
  out.set('limit', '20');
  return out.toString();
}

/** Search by label, text, status and date; results with thumbnails, newest first, a page at a time (cursors). */
export function SearchPage({ query, setTitle }: { query: URLSearchParams; setTitle: (title: string) => void }) {
  const [items, setItems] = useState<ImageSummary[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const key = query.toString();
  useEffect(() => setTitle('Search'), []);

  const load = async (cursor?: string) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await getJson<Page>(`/v1/images?${apiQuery(query, cursor)}`);
      setItems((was) => (cursor ? [...was, ...page.items] : page.items));
      setNext(page.nextCursor);
    } catch (caught) {
      setError(caught instanceof ApiError ? `${caught.code}: ${caught.message}` : 'The search failed.');
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load();
  }, [key]);

  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const params = new URLSearchParams();
    for (const field of FIELDS) {
      const value = String(form.get(field) ?? '').trim();
      if (value) params.set(field, value);
    }
    navigate(`/search${params.size ? `?${params}` : ''}`);
  };
  return (
    <>
      <h1>Search images</h1>
      <form class="search" onSubmit={submit} key={key}>
        <div>
          <label for="q-label">Label</label>
          <input id="q-label" name="label" defaultValue={query.get('label') ?? ''} placeholder="dog" />
        </div>
        <div>
          <label for="q-text">Text</label>
          <input id="q-text" name="text" defaultValue={query.get('text') ?? ''} placeholder='words, "a phrase"' />
        </div>
        <div>
          <label for="q-status">Status</label>
          <select id="q-status" name="status" defaultValue={query.get('status') ?? ''}>
            <option value="">any</option>
            <option value="pending">pending</option>
            <option value="completed">completed</option>
            <option value="partial">partial</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div>
          <label for="q-since">Since</label>
          <input id="q-since" name="since" type="date" defaultValue={query.get('since') ?? ''} />
        </div>
        <button type="submit">Search</button>
      </form>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <p role="status" class="count">
        {loading ? 'Searching…' : `${items.length} image${items.length === 1 ? '' : 's'}${next ? ' so far' : ''}`}
      </p>
      <ul class="results">
        {items.map((item) => {
          const name = item.sourceName ?? item.imageId;
          return (
            <li key={item.imageId} class="result" data-image-id={item.imageId}>
              <a href={`${BASE}/images/${item.imageId}`} onClick={linkClick}>
                <Thumbnail imageId={item.imageId} name={name} />
                <span class="name">{name}</span>
              </a>
              <span class={`badge ${item.status}`}>{item.status}</span>
              {item.error ? <span class="error-code">{item.error.code}</span> : null}
              <span class="labels">{item.labels.join(', ')}</span>
              <time dateTime={item.createdAt}>{new Date(item.createdAt).toLocaleString()}</time>
            </li>
          );
        })}
      </ul>
      {next ? (
        <button type="button" onClick={() => load(next)} disabled={loading}>
          More results
        </button>
      ) : null}
    </>
  );
}
