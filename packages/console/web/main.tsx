import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { hasRole, onUserChange, restoreSession, signOut, type User } from './api.ts';
import { AdminPage } from './pages/admin.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { ImagePage } from './pages/image.tsx';
import { LoginPage } from './pages/login.tsx';
import { SearchPage } from './pages/search.tsx';
import { UploadPage } from './pages/upload.tsx';
import { WebhookPage } from './pages/webhook.tsx';
import { BASE, linkClick, navigate, useLocation } from './router.ts';

function Nav({ user }: { user: User }) {
  const { path } = useLocation();
  const link = (href: string, label: string) => (
    <li>
      <a href={`${BASE}${href}`} onClick={linkClick} aria-current={path === href ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <span class="brand">imgpipe</span>
      <nav aria-label="Console">
        <ul>
          {hasRole(user, 'uploader') ? link('/', 'Upload') : null}
          {link('/search', 'Search')}
          {hasRole(user, 'admin') ? link('/admin', 'Operations') : null}
          {hasRole(user, 'admin') ? link('/api-keys', 'API keys') : null}
          {hasRole(user, 'admin') ? link('/webhook', 'Webhook') : null}
        </ul>
      </nav>
      <span class="who">
        <span data-testid="signed-in-as">{user.username}</span> ({user.role}, {user.tenantId})
      </span>
      <button
        type="button"
        class="secondary"
        onClick={async () => {
          await signOut();
          navigate('/');
        }}
      >
        Sign out
      </button>
    </header>
  );
}

function Page({ user }: { user: User }) {
  const { path, query } = useLocation();
  const title = (text: string) => {
    document.title = `${text} · imgpipe console`;
  };
  const image = /^\/images\/([^/]+)$/.exec(path);
  if (image?.[1]) return <ImagePage id={decodeURIComponent(image[1])} user={user} setTitle={title} />;
  if (path === '/search') return <SearchPage query={query} setTitle={title} />;
  if (path === '/admin') return <AdminPage user={user} setTitle={title} />;
  if (path === '/api-keys') return <ApiKeysPage user={user} setTitle={title} />;
  if (path === '/webhook') return <WebhookPage user={user} setTitle={title} />;
  if (path === '/') {
    if (hasRole(user, 'uploader')) return <UploadPage setTitle={title} />;
    return <SearchPage query={query} setTitle={title} />;
  }
  title('Not found');
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no page here.{' '}
        <a href={`${BASE}/search`} onClick={linkClick}>
          Search images
        </a>
        .
      </p>
    </>
  );
}

function App() {
  const [user, setUser] = useState<User | undefined>();
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const off = onUserChange(setUser);
    void restoreSession().finally(() => setReady(true));
    return off;
  }, []);
  if (!ready) return <p class="loading">Loading…</p>;
  if (!user) {
    return (
      <main id="main">
        <LoginPage />
      </main>
    );
  }
  return (
    <>
      <Nav user={user} />
      <main id="main" tabIndex={-1}>
        <Page user={user} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
