// The "Acme CRM" host page and the Plugboard bundle, served under a strict Content Security
// Policy, to show that the elements need no inline script, no eval and no inline <style>.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Context, Env, Hono } from 'hono';

/**
 * What a careful vendor page sends. Lit styles shadow roots with constructable stylesheets
 * (`adoptedStyleSheets`), which `style-src` does not govern, so no 'unsafe-inline' is needed.
 * `img-src data:` lets integration icons be `data:` URIs.
 */
export const HOST_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/theming.html': { file: 'theming.html', type: 'text/html; charset=utf-8' },
  '/acme.css': { file: 'acme.css', type: 'text/css; charset=utf-8' },
  '/acme.js': { file: 'acme.js', type: 'text/javascript; charset=utf-8' },
};

/** The package root (holds package.json), from demo/ under tsx or dist/node/demo/ when built. */
export function packageRoot(from: string = new URL('.', import.meta.url).pathname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'demo', 'public'))) return dir;
    dir = join(dir, '..');
  }
  throw new Error(`demo: could not find the package root (with demo/public) above ${from}`);
}

export interface HostPageOptions {
  /** Package root: demo/public and dist/ are read from here. */
  root: string;
  /** The script-tag bundle to serve at /plugboard.js. Default `<root>/dist/plugboard.js`. */
  bundlePath?: string;
}

function withPolicy(c: Context, body: string | Uint8Array, type: string, cache = 'no-cache') {
  c.header('content-type', type);
  c.header('content-security-policy', HOST_PAGE_CSP);
  c.header('cache-control', cache);
  c.header('x-content-type-options', 'nosniff');
  // OAuth sign-in opens a popup on the provider's origin that must keep its opener; the default
  // `same-origin` would sever it. (Needs the app's secureHeaders to keep route headers.)
  c.header('cross-origin-opener-policy', 'same-origin-allow-popups');
  return c.body(typeof body === 'string' ? body : new Uint8Array(body));
}

/** Adds the host page routes to `app`. */
export function mountHostPage<E extends Env>(app: Hono<E>, o: HostPageOptions): void {
  const publicDir = join(o.root, 'demo', 'public');
  const bundle = o.bundlePath ?? join(o.root, 'dist', 'plugboard.js');
  const distDir = dirname(bundle);

  for (const [path, page] of Object.entries(PAGES)) {
    app.get(path, async (c) => withPolicy(c, await readFile(join(publicDir, page.file), 'utf8'), page.type));
  }

  app.get('/plugboard.js', async (c) => {
    const file = bundle;
    if (!existsSync(file)) {
      c.status(404);
      return withPolicy(c, '/* dist/plugboard.js is missing: run `npm run build` */\n', 'text/javascript; charset=utf-8');
    }
    return withPolicy(c, await readFile(file), 'text/javascript; charset=utf-8');
  });
  app.get('/plugboard.js.map', async (c) => {
    const file = `${bundle}.map`;
    if (!existsSync(file)) return c.notFound();
    return withPolicy(c, await readFile(file), 'application/json; charset=utf-8');
  });
  // Rollup's shared chunks, if the bundle has any. The name pattern keeps paths inside dist/chunks.
  app.get('/chunks/:name{[A-Za-z0-9_.-]+\\.js(\\.map)?}', async (c) => {
    const name = c.req.param('name');
    const file = join(distDir, 'chunks', name);
    if (name.includes('..') || !existsSync(file)) return c.notFound();
    return withPolicy(c, await readFile(file), name.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8');
  });
}

/** Whether dist/plugboard.js exists: the demo says what to do when it doesn't. */
export function bundleStatus(root: string): { present: boolean; path: string; bytes: number } {
  const path = join(root, 'dist', 'plugboard.js');
  return existsSync(path) ? { present: true, path, bytes: readFileSync(path).byteLength } : { present: false, path, bytes: 0 };
}
