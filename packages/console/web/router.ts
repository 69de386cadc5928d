import { useEffect, useState } from 'preact/hooks';

/** The console's routes live under /console/; the API answers index.html for all of them (history routing). */
export const BASE = '/console';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function navigate(path: string): void {
  history.pushState(null, '', `${BASE}${path}`);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

/** The path below /console (`/`, `/search`, `/images/<id>`...) and its query, re-read on every navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const read = () => ({
    path: location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/',
    query: new URLSearchParams(location.search),
  });
  const [where, setWhere] = useState(read);
  useEffect(() => {
    const update = () => setWhere(read());
    listeners.add(update);
    return () => listeners.delete(update);
  }, []);
  return where;
}

/** A click on an in-console link navigates without reloading (modified clicks keep the browser's behaviour). */
export function linkClick(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? undefined;
  if (!anchor || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const href = anchor.getAttribute('href') ?? '';
  if (!href.startsWith(`${BASE}/`)) return;
  event.preventDefault();
  navigate(href.slice(BASE.length));
}
