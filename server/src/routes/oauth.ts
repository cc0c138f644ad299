// OAuth routes. `POST /api/v1/instances/:id/connections/:name/authorize` (customer admins; the
// caller's Origin must be allowed) starts a flow and answers with `GET /oauth/start`, the page the
// element opens: it binds the flow to this browser with a cookie and goes on to the provider.
// `GET /oauth/callback` is the exact redirect URI registered at the provider and completes only
// with that cookie. The pages run no inline script (strict CSP): the callback's one script is
// `/oauth/callback.js`, which posts the result to the recorded origin only and closes.
import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { AuthorizeBody, type OAuthCallbackMessage } from 'plugboard/protocol';
import type { BaseEnv, CustomerEnv, Services } from '../env.js';
import { CallbackRejected, StartRejected } from '../oauth/index.js';
import { HttpProblem } from '../problem.js';
import { parseWith } from '../validation.js';

/** The callback page's script: reads the result from the page and posts it to the opener. */
export const CALLBACK_SCRIPT = `(() => {
  const root = document.getElementById('plugboard-oauth');
  if (!root) return;
  const { targetOrigin, message } = JSON.parse(root.dataset.result);
  if (window.opener && targetOrigin) {
    // Only the origin that started the flow may read the result: never "*".
    window.opener.postMessage(message, targetOrigin);
    window.close();
  }
  const manual = document.getElementById('plugboard-oauth-manual');
  if (manual) manual.hidden = false;
})();
`;

const PAGE_STYLE = `body{font:16px system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem;color:#0f172a;background:#fff}
h1{font-size:1.25rem}p{line-height:1.5}.error{color:#b91c1c}`;

function pageHeaders(nonce: string, withScript: boolean): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      withScript ? "script-src 'self'" : "script-src 'none'",
      `style-src 'nonce-${nonce}'`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'cache-control': 'no-store',
    // The URL carries the authorization code: never send it on as a referrer.
    'referrer-policy': 'no-referrer',
    // The page must keep its opener (a same-origin COOP would cut it off from the vendor's page).
    'cross-origin-opener-policy': 'unsafe-none',
    'x-content-type-options': 'nosniff',
  };
}

async function renderPage(title: string, body: ReturnType<typeof html>, nonce: string, script: boolean, refreshTo?: string): Promise<string> {
  // A meta refresh goes on to the provider without script, after the page has shown "Connecting to …".
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${refreshTo ? html`<meta http-equiv="refresh" content="0;url=${refreshTo}">` : ''}<title>${title}</title><style nonce="${nonce}">${PAGE_STYLE}</style></head>
<body>${body}${script ? html`<script src="/oauth/callback.js"></script>` : ''}</body></html>`;
  return (await doc).toString();
}

/** Customer route: mount on the `/api/v1` customer app (behind customer auth). */
export function oauthAuthorizeRoutes({ oauth }: Pick<Services, 'oauth'>): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();
  app.post('/instances/:id/connections/:name/authorize', async (c) => {
    // The body is optional: no body means a popup flow.
    const text = await c.req.text();
    let raw: unknown = {};
    if (text.trim() !== '') {
      try {
        raw = JSON.parse(text);
      } catch {
        throw new HttpProblem(400, 'validation', 'The request body must be JSON.', { errors: [{ path: '(body)', message: 'The request body must be JSON' }] });
      }
    }
    const body = parseWith(AuthorizeBody, raw);
    const result = await oauth.flow.authorize({
      customer: c.get('tenant').customer,
      actor: c.get('actor'),
      instanceId: c.req.param('id'),
      connection: c.req.param('name'),
      origin: c.req.header('origin'),
      mode: body.mode,
      returnUrl: body.returnUrl,
      fields: body.fields,
    });
    c.header('cache-control', 'no-store');
    return c.json(result);
  });
  return app;
}

/** Public routes: mount at `/oauth` (no vendor JWT: the provider redirects the browser here). */
export function oauthCallbackRoutes({ oauth, logger }: Pick<Services, 'oauth' | 'logger'>): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();

  app.get('/callback.js', (c) =>
    c.body(CALLBACK_SCRIPT, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    }),
  );

  const rejectedPage = async (c: Context<BaseEnv>, error: CallbackRejected | StartRejected, nonce: string) => {
    const page = await renderPage(
      'Connection not completed',
      html`<main><h1>This connection could not be completed</h1><p class="error">${error.message}</p><p>You can close this window.</p></main>`,
      nonce,
      false,
    );
    return c.html(page, 400, pageHeaders(nonce, false));
  };

  // `__Host-` (Secure, Path=/, no Domain) when PUBLIC_URL is https; a plain cookie on http development.
  const prefix = oauth.flow.secureCookie ? ('host' as const) : undefined;

  app.get('/start', async (c) => {
    const nonce = randomBytes(16).toString('base64');
    const state = c.req.query('state');
    let outcome;
    try {
      outcome = await oauth.flow.start(state, c.req.header('referer'));
    } catch (error) {
      if (!(error instanceof StartRejected)) throw error;
      logger.warn({ requestId: c.get('requestId'), reason: error.reason }, 'oauth start refused');
      return rejectedPage(c, error, nonce);
    }
    setCookie(c, outcome.cookie.name, outcome.cookie.value, {
      httpOnly: true,
      secure: oauth.flow.secureCookie,
      // Lax: the provider's redirect back is a top-level GET navigation, which carries it.
      sameSite: 'Lax',
      path: '/',
      maxAge: outcome.cookie.maxAgeSeconds,
      ...(prefix ? { prefix } : {}),
    });
    const title = `Connecting to ${outcome.providerLabel}…`;
    const page = await renderPage(
      title,
      html`<main><h1>${title}</h1><p>If nothing happens, <a href="${outcome.providerUrl}">continue to ${outcome.providerLabel}</a>.</p></main>`,
      nonce,
      false,
      outcome.providerUrl,
    );
    return c.html(page, 200, pageHeaders(nonce, false));
  });

  app.get('/callback', async (c) => {
    const nonce = randomBytes(16).toString('base64');
    // Read only the query: the host the request came in on may be a proxy's.
    const callbackUrl = new URL(oauth.flow.redirectUri);
    callbackUrl.search = new URL(c.req.url).search;
    const state = callbackUrl.searchParams.get('state');
    const cookieName = state ? oauth.flow.cookieName(state) : undefined;
    const browserKey = cookieName ? (prefix ? getCookie(c, cookieName, prefix) : getCookie(c, cookieName)) : undefined;
    // Single use: the cookie goes whatever the outcome.
    if (cookieName && browserKey !== undefined) deleteCookie(c, cookieName, { path: '/', secure: oauth.flow.secureCookie, ...(prefix ? { prefix } : {}) });
    let outcome;
    try {
      outcome = await oauth.flow.callback(callbackUrl, browserKey);
    } catch (error) {
      if (!(error instanceof CallbackRejected)) throw error;
      logger.warn({ requestId: c.get('requestId'), reason: error.reason }, 'oauth callback rejected');
      const page = await renderPage(
        'Connection not completed',
        html`<main><h1>This connection could not be completed</h1><p class="error">${error.message}</p><p>You can close this window.</p></main>`,
        nonce,
        false,
      );
      return c.html(page, 400, pageHeaders(nonce, false));
    }

    const { message } = outcome;
    if (outcome.mode === 'redirect' && outcome.returnUrl) {
      const back = new URL(outcome.returnUrl);
      back.searchParams.set('plugboard_oauth', message.ok ? 'ok' : 'error');
      back.searchParams.set('state', message.state);
      back.searchParams.set('plugboard_instance', message.instanceId);
      back.searchParams.set('plugboard_connection', message.connection);
      return c.body(null, 303, { location: back.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    }

    const result: { targetOrigin: string; message: OAuthCallbackMessage } = { targetOrigin: outcome.origin, message };
    const body = message.ok
      ? html`<h1>Connected</h1><p>You can close this window and return to the app.</p>`
      : html`<h1>Not connected</h1><p class="error">${message.error ?? 'The connection failed.'}</p><p>Close this window and try again.</p>`;
    const page = await renderPage(
      message.ok ? 'Connected' : 'Not connected',
      html`<main id="plugboard-oauth" data-result="${JSON.stringify(result)}">${body}<p id="plugboard-oauth-manual" hidden>If this window stays open, close it to go back.</p></main>`,
      nonce,
      true,
    );
    return c.html(page, 200, pageHeaders(nonce, true));
  });

  return app;
}
