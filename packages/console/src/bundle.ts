import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** One file of the console as the API serves it. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** A strong validator: the SHA-256 of the body, quoted. */
  etag: string;
}

export interface ConsoleBundle {
  /** index.html: the answer to /console/ and to every path under it that is not an asset (the SPA's routes). */
  index: ConsoleAsset;
  /** By file name under /console/assets/: main.js, main.css. */
  assets: ReadonlyMap<string, ConsoleAsset>;
  builtInMs: number;
}

const WEB = fileURLToPath(new URL('../web/', import.meta.url));

function asset(body: Buffer | Uint8Array, contentType: string): ConsoleAsset {
  const bytes = Buffer.from(body);
  return { body: bytes, contentType, etag: `"${createHash('sha256').update(bytes).digest('base64url')}"` };
}

/**
 * Bundles the console from its sources in web/ (Preact and TSX, one stylesheet) with esbuild, in memory. The
 * repository has no build step (Node runs the TypeScript itself), so neither has the console: the API builds it the
 * first time /console is asked for (about a quarter of a second) and serves it from memory from then on. Nothing
 * generated is stored or committed, and a fresh clone serves the console with no extra command.
 */
export async function buildConsole(): Promise<ConsoleBundle> {
  const started = performance.now();
  const result = await build({
    absWorkingDir: WEB,
    entryPoints: ['main.tsx', 'main.css'],
    outdir: 'out',
    write: false,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    assets.set(
      name,
      asset(file.contents, name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8'),
    );
  }
  const html = await readFile(`${WEB}index.html`, 'utf8');
  // The assets' versions in their URLs, so a browser never pairs a new page with an old script.
  const versioned = html.replace(/assets\/(main\.(?:js|css))/g, (_match, name: string) => {
    const etag = assets.get(name)?.etag ?? '';
    return `assets/${name}?v=${etag.slice(1, 13)}`;
  });
  return {
    index: asset(Buffer.from(versioned), 'text/html; charset=utf-8'),
    assets,
    builtInMs: Math.round(performance.now() - started),
  };
}
