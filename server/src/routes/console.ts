// The vendor console page, for a vendor without an admin app of its own to mount
// `<plug-vendor-console>` in: `GET /console` is a static page (no data: nothing on it until a vendor
// token is given, and every API call carries that token, checked like any vendor API call). The
// token comes in the URL fragment (`/console#token=…`, which no server or Referer sees: the
// vendor's sign-in redirects there) or is pasted into the page; it lives in this tab's
// sessionStorage only. The page and its script run under a CSP without inline script or style.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono, type Context } from 'hono';
import type { BaseEnv } from '../env.js';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Plugboard console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/console.css">
<script type="module" src="/console/console.js"></script>
</head>
<body>
<header class="top"><h1 class="brand">Plugboard <span class="product">Console</span></h1>
<button type="button" id="sign-out" class="link" hidden>Sign out</button></header>
<main>
<form id="sign-in" class="sign-in" hidden>
<h2>Sign in to the console</h2>
<p>The console needs a vendor token: a JWT your sign-in signs with <code>role: "vendor"</code> and the staff member's
<code>vendor_role</code>. Your sign-in can send staff here as <code>/console#token=…</code>, or paste one below.
It is kept in this tab only.</p>
<label for="token">Vendor token</label>
<textarea id="token" name="token" rows="4" spellcheck="false" autocomplete="off" required></textarea>
<p id="sign-in-error" class="error" role="alert"></p>
<button type="submit">Sign in</button>
</form>
<noscript><p>The console needs JavaScript.</p></noscript>
<plug-vendor-console id="console" api="/api/v1" hidden></plug-vendor-console>
</main>
</body>
</html>
`;

const STYLE = `*{box-sizing:border-box}
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;
--bg:light-dark(#f1f5f9,#020617);--fg:light-dark(#0f172a,#e2e8f0);--muted:light-dark(#475569,#94a3b8);--line:light-dark(#cbd5e1,#334155);
--panel:light-dark(#fff,#0f172a);--accent:light-dark(#4f46e5,#818cf8);--on-accent:light-dark(#fff,#0b1020);--danger:light-dark(#b91c1c,#f87171)}
body{margin:0;background:var(--bg);color:var(--fg)}
.top{display:flex;gap:.5rem;align-items:center;padding:.75rem 1.25rem;background:var(--panel);border-bottom:1px solid var(--line)}
.brand{margin:0;font-size:1rem;font-weight:700}.product{color:var(--muted);font-weight:400}
.top .link{margin-left:auto;background:none;border:0;color:var(--accent);font:inherit;cursor:pointer;min-height:2.25rem}
main{max-width:80rem;margin:0 auto;padding:1.25rem}
plug-vendor-console{background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:1.25rem}
.sign-in{max-width:34rem;margin:3rem auto;padding:1.5rem;background:var(--panel);border:1px solid var(--line);border-radius:12px;display:flex;flex-direction:column;gap:.75rem}
.sign-in h2{margin:0;font-size:1.25rem}.sign-in p{margin:0;color:var(--muted);line-height:1.5}
textarea{width:100%;font:13px ui-monospace,monospace;padding:.5rem;border:1px solid var(--line);border-radius:8px;background:var(--panel);color:var(--fg)}
button[type=submit]{align-self:flex-start;min-height:2.25rem;padding:0 1rem;border:0;border-radius:8px;background:var(--accent);color:var(--on-accent);font:inherit;font-weight:600;cursor:pointer}
.error{color:var(--danger)}.error:empty{display:none}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
[hidden]{display:none!important}
@media (max-width:600px){main{padding:.5rem}plug-vendor-console{padding:.75rem;border-radius:8px}}
`;

/** The page's one script: the token from the fragment, the tab or the form; checked once, then the console gets it. */
export const CONSOLE_SCRIPT = `import { loadVendorConsole } from '/console/plugboard.js';

const KEY = 'plugboard-console-token';
const form = document.getElementById('sign-in');
const field = document.getElementById('token');
const error = document.getElementById('sign-in-error');
const signOut = document.getElementById('sign-out');
const consoleEl = document.getElementById('console');

function showSignIn(message) {
  sessionStorage.removeItem(KEY);
  consoleEl.hidden = true;
  signOut.hidden = true;
  form.hidden = false;
  error.textContent = message || '';
  field.focus();
}

async function start(token) {
  // One call before showing anything: a token the server refuses never reaches the console.
  const res = await fetch('/api/v1/vendor/me', { headers: { authorization: 'Bearer ' + token }, credentials: 'omit' });
  if (!res.ok) {
    const problem = await res.json().catch(() => ({}));
    return showSignIn(problem.detail || problem.title || 'This token was refused.');
  }
  sessionStorage.setItem(KEY, token);
  form.hidden = true;
  signOut.hidden = false;
  await loadVendorConsole();
  // Called before every request once the token is near its end: then staff sign in again.
  consoleEl.getToken = () => {
    const current = sessionStorage.getItem(KEY);
    if (current) return current;
    showSignIn('Your session ended. Sign in again.');
    throw new Error('signed out');
  };
  consoleEl.hidden = false;
}

consoleEl.addEventListener('plug-error', (event) => {
  if (event.detail.problem && event.detail.problem.status === 401) showSignIn('Your token expired. Sign in again.');
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  void start(field.value.trim());
});
signOut.addEventListener('click', () => {
  consoleEl.getToken = undefined;
  showSignIn('');
  location.reload();
});

// A token in the fragment (from the vendor's sign-in) leaves the address bar and history at once.
const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromFragment) history.replaceState(null, '', location.pathname + location.search);
const token = fromFragment || sessionStorage.getItem(KEY);
if (token) void start(token);
else showSignIn('');
`;

/** Where the script-tag bundle is: the `plugboard` package's dist (`npm run build` makes it). */
function bundleDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('plugboard/plugboard.js'));
  } catch {
    return undefined;
  }
}

export function consoleRoutes(options: { bundleDir?: string } = {}): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();
  // Looked up per request until found: a bundle built after the server started is served too.
  let found = options.bundleDir;
  const distDir = () => (found ??= bundleDir());

  const send = (c: Context<BaseEnv>, body: string | Uint8Array, type: string, cache: string) => {
    c.header('content-security-policy', CONSOLE_CSP);
    c.header('cache-control', cache);
    c.header('referrer-policy', 'no-referrer');
    c.header('x-content-type-options', 'nosniff');
    c.header('content-type', type);
    return c.body(typeof body === 'string' ? body : new Uint8Array(body));
  };

  async function bundleFile(c: Context<BaseEnv>, path: string | undefined): Promise<Response> {
    if (!path || !existsSync(path)) return c.notFound();
    return send(c, await readFile(path), 'text/javascript; charset=utf-8', 'no-cache');
  }

  app.get('/', (c) => send(c, PAGE, 'text/html; charset=utf-8', 'no-store'));
  app.get('/console.js', (c) => send(c, CONSOLE_SCRIPT, 'text/javascript; charset=utf-8', 'no-cache'));
  app.get('/console.css', (c) => send(c, STYLE, 'text/css; charset=utf-8', 'no-cache'));
  // The customers' entry, and the console's (which `loadVendorConsole()` imports from beside it).
  for (const file of ['plugboard.js', 'plugboard-console.js']) {
    app.get(`/${file}`, (c) => {
      const dist = distDir();
      return bundleFile(c, dist && join(dist, file));
    });
  }
  // The bundle's lazy chunks (detail, validation), by the names rollup gave them.
  app.get('/chunks/:name', (c) => {
    const name = c.req.param('name');
    const dist = distDir();
    return bundleFile(c, dist && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.js$/.test(name) ? join(dist, 'chunks', name) : undefined);
  });
  return app;
}
