import { useEffect, useState } from 'preact/hooks';
import { ApiError, signIn } from '../api.ts';

export function LoginPage() {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · imgpipe console';
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      await signIn(String(form.get('tenant')), String(form.get('username')), String(form.get('password')));
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.code === 'AUTH_LOGIN_FAILED'
          ? 'Wrong tenant, username or password.'
          : caught instanceof ApiError
            ? `${caught.code}: ${caught.message}`
            : 'The API could not be reached.',
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="login">
      <h1>Sign in to imgpipe</h1>
      <form onSubmit={submit}>
        <label for="tenant">Tenant</label>
        <input id="tenant" name="tenant" required autoComplete="organization" />
        <label for="username">Username</label>
        <input id="username" name="username" required autoComplete="username" />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" required autoComplete="current-password" />
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
