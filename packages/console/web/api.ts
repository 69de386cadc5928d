/**
 * The console's one client of the HTTP API. The access token lives in this module's memory only; the refresh token
 * is an HttpOnly cookie the page never sees (path /v1/auth), and refreshing or signing out sends the CSRF token from
 * the readable imgpipe_csrf cookie as X-CSRF-Token (docs/api.md, "Cookie mode"). Refreshes are single-flight: two
 * requests that find the token expired share one refresh, since a refresh token is single use.
 */

export type Role = 'viewer' | 'uploader' | 'admin';

export interface User {
  id: string;
  tenantId: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
}

export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.status = problem.status;
    this.code = problem.code;
  }
}

interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
  csrfToken?: string;
  user: User;
}

const RANK: Record<Role, number> = { viewer: 0, uploader: 1, admin: 2 };

/** Whether `role` includes the rights of `needed` (viewer < uploader < admin). */
export function hasRole(user: User | undefined, needed: Role): boolean {
  return user !== undefined && RANK[user.role] >= RANK[needed];
}

let accessToken: string | undefined;
let expiresAt = 0;
let currentUser: User | undefined;
let refreshing: Promise<boolean> | undefined;
const listeners = new Set<(user: User | undefined) => void>();

export function onUserChange(listener: (user: User | undefined) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(answer: TokenAnswer | undefined): void {
  accessToken = answer?.accessToken;
  expiresAt = answer ? Date.now() + answer.expiresIn * 1000 : 0;
  currentUser = answer?.user;
  for (const listener of listeners) listener(currentUser);
}

function csrfCookie(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'imgpipe_csrf') return decodeURIComponent(value.join('='));
  }
  return undefined;
}

async function problemOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as Partial<Problem>;
  return new ApiError({
    status: response.status,
    code: body.code ?? `HTTP_${response.status}`,
    ...(body.title ? { title: body.title } : {}),
    ...(body.detail ? { detail: body.detail } : {}),
  });
}

function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export async function signIn(tenant: string, username: string, password: string): Promise<User> {
  const response = await postJson('/v1/auth/login', { tenant, username, password, refreshTokenIn: 'cookie' });
  if (!response.ok) throw await problemOf(response);
  const answer = (await response.json()) as TokenAnswer;
  setSession(answer);
  return answer.user;
}

/** A new access token from the refresh cookie; false (and signed out) when there is no session to refresh. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const csrf = csrfCookie();
      if (!csrf) {
        setSession(undefined);
        return false;
      }
      const response = await postJson('/v1/auth/refresh', {}, { 'x-csrf-token': csrf });
      if (!response.ok) {
        setSession(undefined);
        return false;
      }
      setSession((await response.json()) as TokenAnswer);
      return true;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** After a page load: the session the refresh cookie still holds, if any. */
export async function restoreSession(): Promise<User | undefined> {
  return (await refresh()) ? currentUser : undefined;
}

export async function signOut(): Promise<void> {
  const csrf = csrfCookie();
  try {
    await postJson('/v1/auth/logout', {}, csrf ? { 'x-csrf-token': csrf } : {});
  } finally {
    setSession(undefined);
  }
}

/** A call with the bearer token, refreshed first when about to expire, and once more after a 401. */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  if (accessToken && Date.now() > expiresAt - 30_000) await refresh();
  const attempt = () =>
    fetch(path, {
      ...init,
      credentials: 'same-origin',
      headers: {
        ...(init.headers as Record<string, string>),
        ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
      },
    });
  const first = await attempt();
  if (first.status !== 401 || !(await refresh())) return first;
  return attempt();
}

export async function getJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await request(path, init);
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as T;
}

export function sendJson<T>(method: string, path: string, body: unknown): Promise<T> {
  return getJson<T>(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** A protected picture as a blob: URL an <img> can show (an <img> cannot send the bearer token). */
export async function pictureUrl(path: string, signal?: AbortSignal): Promise<string> {
  const response = await request(path, signal ? { signal } : {});
  if (!response.ok) throw await problemOf(response);
  return URL.createObjectURL(await response.blob());
}

/**
 * GET /v1/images/{id}/events read with fetch (EventSource cannot send the bearer token): calls `onEvent` with each
 * event's name and parsed data until the stream ends or `signal` aborts.
 */
export async function streamEvents(
  imageId: string,
  onEvent: (event: string, data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await request(`/v1/images/${encodeURIComponent(imageId)}/events`, {
    signal,
    headers: { accept: 'text/event-stream' },
  });
  if (!response.ok || !response.body) throw await problemOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
    }
  }
}
