// Acme CRM's page script (external file: the page's CSP allows no inline script).
// It asks Acme's own backend (/demo/token) for a short-lived Plugboard token for the signed-in
// customer and hands <plug-marketplace> a getToken callback, which Plugboard calls again before
// the token expires and after a 401.

const params = new URLSearchParams(location.search);
const STORAGE_KEY = 'acme-demo-customer';
const customer = params.get('customer') ?? localStorage.getItem(STORAGE_KEY) ?? 'globex';
const role = params.get('role') === 'member' ? 'member' : 'admin';

/** The one function a vendor writes: fetch a token from its backend. */
async function getToken() {
  const res = await fetch(`/demo/token?customer=${encodeURIComponent(customer)}&role=${role}`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`Acme could not get a Plugboard token (${res.status})`);
  const body = await res.json();
  return body.token;
}

async function setUpCustomerSwitch() {
  const select = document.getElementById('customer-switch');
  const who = document.getElementById('who');
  if (!select) return;
  const res = await fetch('/demo/customers');
  const { customers } = await res.json();
  for (const c of customers) {
    for (const r of ['admin', 'member']) {
      const option = document.createElement('option');
      option.value = `${c.id}:${r}`;
      option.textContent = `${c.name} (${r})`;
      option.selected = c.id === customer && r === role;
      select.append(option);
    }
  }
  const current = customers.find((c) => c.id === customer);
  if (current && who) who.textContent = `${current[role].name}`;
  select.addEventListener('change', () => {
    const [id, r] = select.value.split(':');
    localStorage.setItem(STORAGE_KEY, id);
    const next = new URL(location.href);
    next.searchParams.set('customer', id);
    next.searchParams.set('role', r);
    location.assign(next);
  });
}

function setUpMarketplace() {
  const marketplace = document.getElementById('marketplace');
  if (marketplace) marketplace.getToken = getToken;
}

// ---------------------------------------------------------------- inbox

async function refreshInbox() {
  const list = document.getElementById('inbox-list');
  const empty = document.getElementById('inbox-empty');
  if (!list) return;
  const res = await fetch('/demo/inbox', { headers: { authorization: `Bearer ${await getToken()}` } });
  if (!res.ok) return;
  const { messages } = await res.json();
  // Text only: messages carry what integrations and webhooks sent, so never parse them as HTML.
  list.replaceChildren(
    ...messages.map((m) => {
      const li = document.createElement('li');
      const source = document.createElement('div');
      source.className = 'source';
      source.textContent = `${m.source} · ${new Date(m.at).toLocaleTimeString()}`;
      const title = document.createElement('div');
      title.className = 'title';
      title.textContent = m.title;
      li.append(source, title);
      if (m.body) {
        const pre = document.createElement('pre');
        pre.textContent = m.body;
        const json = jsonOrUndefined(m.body);
        if (json === undefined) {
          li.append(pre);
        } else {
          // A forwarded event's raw JSON: behind "Details", as Plugboard shows a run's result.
          pre.textContent = JSON.stringify(json, null, 2);
          const details = document.createElement('details');
          const label = document.createElement('summary');
          label.textContent = 'Details';
          details.append(label, pre);
          li.append(details);
        }
      }
      return li;
    }),
  );
  if (empty) empty.hidden = messages.length > 0;
}

function jsonOrUndefined(text) {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function setUpInbox() {
  if (!document.getElementById('inbox-list')) return;
  document.getElementById('inbox-refresh')?.addEventListener('click', () => void refreshInbox());
  void refreshInbox();
  setInterval(() => {
    if (document.visibilityState === 'visible') void refreshInbox();
  }, 5000);
}

// ---------------------------------------------------------------- try a flow

/** What each demo integration's webhook would receive from its real sender. */
const SAMPLE_EVENTS = {
  'chatwave-notifier': { event: 'deal.won', title: 'Globex renewal 2025', amount: '$12,000', owner: 'hank' },
  'webhook-forwarder': { type: 'contact.created', contact: { name: 'Ada Lovelace', email: 'ada@analytical.example' } },
  'ledgerly-billing-alerts': { type: 'payment.failed', amount: 1800, customerName: 'Initrode' },
};

async function api(path, init = {}) {
  const res = await fetch(`/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${await getToken()}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

// Acme CRM's backend sends the event (signed the Standard Webhooks way with the library); the page
// only asks it to, handing over a signing secret it just made for the flow (a demo shortcut).
async function sendSample(instance, hook, name) {
  const result = document.getElementById('try-result');
  const body = JSON.stringify(SAMPLE_EVENTS[instance.integrationKey] ?? { hello: 'from Acme CRM' });
  try {
    const secret = hook.hmac ? (await api(`/instances/${instance.id}/webhooks/${hook.flow}/secret`, { method: 'POST' })).secret : undefined;
    const sent = await fetch('/demo/send-webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url, body, secret }),
    });
    const { status, answer = {} } = await sent.json();
    result.textContent =
      status >= 200 && status < 300
        ? `Sent: ${name} took the event and runs it now. What it posts shows in the inbox below in a moment.`
        : `${name} did not take the event: ${answer.detail ?? answer.title ?? `it answered ${status ?? sent.status}`}`;
    setTimeout(() => void refreshInbox(), 1500);
  } catch (err) {
    result.textContent = `Could not send: ${err.message}`;
  }
}

async function refreshTryList() {
  const list = document.getElementById('try-list');
  const empty = document.getElementById('try-empty');
  if (!list) return;
  let instances = [];
  const names = new Map();
  try {
    ({ instances } = await api('/instances'));
  } catch {
    return;
  }
  const items = instances.filter((i) => i.status === 'active').flatMap((i) => (i.webhooks ?? []).map((hook) => ({ instance: i, hook })));
  // The integrations' names, for the buttons (only when there is something to send).
  if (items.length > 0) {
    try {
      for (const i of (await api('/integrations')).integrations) names.set(i.key, i.name);
    } catch {
      // Without the catalog the buttons still work, with a plainer text.
    }
  }
  list.replaceChildren(
    ...items.map(({ instance, hook }) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      // The integration's name and the webhook's label: never their internal keys.
      const name = names.get(instance.integrationKey) ?? 'this integration';
      const about = [hook.label, hook.hmac ? 'signed' : ''].filter(Boolean).join(', ');
      button.textContent = `Send a sample event to ${name}${about ? ` (${about})` : ''}`;
      button.addEventListener('click', () => void sendSample(instance, hook, name));
      li.append(button);
      return li;
    }),
  );
  if (empty) empty.hidden = items.length > 0;
  // A result about an integration that is no longer active would read as current.
  if (items.length === 0) document.getElementById('try-result')?.replaceChildren();
}

// ---------------------------------------------------------------- events the host hears

const EVENTS = [
  'plug-instance-created',
  'plug-config-saved',
  'plug-instance-activated',
  'plug-instance-paused',
  'plug-instance-deleted',
  'plug-connect',
  'plug-connect-error',
  'plug-error',
];

/** The integrations' names by key, read once for the event log (the page shows names, never keys). */
let catalogNames;
function integrationName(key) {
  catalogNames ??= api('/integrations').then(
    ({ integrations }) => new Map(integrations.map((i) => [i.key, i.name])),
    () => new Map(),
  );
  return catalogNames.then((names) => names.get(key) ?? 'An integration');
}

/** What an event says, in words: the integration's name and what happened; the raw detail goes behind "Details". */
async function eventInWords(name, detail) {
  if (name === 'plug-error') return detail.message ?? 'Something went wrong';
  const key = detail.instance?.integrationKey ?? detail.integrationKey;
  const integration = key ? await integrationName(key) : 'An integration';
  if (name === 'plug-connect') return `${integration}: account ${detail.status === 'connected' ? 'connected' : (detail.status ?? 'changed')}`;
  if (name === 'plug-connect-error') return `${integration}: the account could not be connected`;
  if (name === 'plug-instance-deleted') return `${integration}: deleted`;
  return `${integration}: ${detail.instance?.status ?? 'changed'}`;
}

function setUpEventLog() {
  const log = document.getElementById('event-log');
  if (!log) return;
  for (const name of EVENTS) {
    document.addEventListener(name, async (event) => {
      const detail = event.detail ?? {};
      const li = document.createElement('li');
      const what = document.createElement('code');
      what.textContent = name;
      const raw = document.createElement('details');
      const label = document.createElement('summary');
      label.textContent = 'Details';
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify(detail, null, 2);
      raw.append(label, pre);
      li.append(`${new Date().toLocaleTimeString()} `, what, ` ${await eventInWords(name, detail)}`, raw);
      log.prepend(li);
      while (log.children.length > 20) log.lastElementChild?.remove();
      if (name !== 'plug-error') {
        void refreshInbox();
        void refreshTryList();
      }
    });
  }
}

// ---------------------------------------------------------------- theming page

// Set through the CSSOM (style.setProperty), which a `style-src 'self'` CSP allows; only
// inline <style> and style="" attributes in markup would need 'unsafe-inline'.
const LOOKS = {
  // No theme: the marketplace follows this page's color-scheme (light or dark with the system).
  default: { theme: undefined, dark: false, tokens: {} },
  acme: {
    theme: 'light',
    dark: false,
    tokens: {
      '--plug-color-primary': '#0e7c66',
      '--plug-color-on-primary': '#ffffff',
      '--plug-color-focus': '#0e7c66',
      '--plug-radius-s': '0',
      '--plug-radius-m': '2px',
      '--plug-radius-l': '2px',
      '--plug-font-family': 'Georgia, "Times New Roman", serif',
    },
  },
  sunset: {
    theme: 'light',
    dark: false,
    tokens: {
      '--plug-color-primary': '#c2410c',
      '--plug-color-on-primary': '#fffaf5',
      '--plug-color-surface': '#fffaf5',
      '--plug-color-surface-raised': '#ffffff',
      '--plug-color-border': '#fed7aa',
      '--plug-radius-m': '14px',
      '--plug-radius-l': '20px',
      '--plug-space-m': '1.1rem',
      '--plug-space-l': '1.6rem',
    },
  },
  midnight: {
    theme: 'dark',
    dark: true,
    tokens: {
      '--plug-color-primary': '#7c9cff',
      '--plug-color-on-primary': '#0d1117',
      '--plug-color-surface': '#0d1117',
      '--plug-color-surface-raised': '#161b22',
      '--plug-color-text': '#e6edf3',
      '--plug-color-text-muted': '#8b949e',
      '--plug-color-border': '#30363d',
    },
  },
};
const ALL_TOKENS = [...new Set(Object.values(LOOKS).flatMap((l) => Object.keys(l.tokens)))];

function applyLook(name) {
  const look = LOOKS[name] ?? LOOKS.default;
  const stage = document.getElementById('theme-stage');
  const marketplace = document.getElementById('marketplace');
  const cssText = document.getElementById('theme-css');
  if (!stage || !marketplace) return;
  for (const token of ALL_TOKENS) marketplace.style.removeProperty(token);
  for (const [token, value] of Object.entries(look.tokens)) marketplace.style.setProperty(token, value);
  if (look.theme) marketplace.setAttribute('theme', look.theme);
  else marketplace.removeAttribute('theme');
  stage.className = `theme-stage look-${name}${look.dark ? ' is-dark' : look.theme === 'light' ? ' is-light' : ''}`;
  if (cssText) {
    const lines = Object.entries(look.tokens).map(([t, v]) => `  ${t}: ${v};`);
    const tag = look.theme ? `<plug-marketplace theme="${look.theme}">` : '<plug-marketplace>';
    cssText.textContent = lines.length
      ? `plug-marketplace {\n${lines.join('\n')}\n}\n${tag}`
      : `/* no overrides: Plugboard's own tokens, light or dark as the page is */\n${tag}`;
  }
}

function setUpThemePicker() {
  const picker = document.querySelector('.theme-picker');
  if (!picker) return;
  picker.addEventListener('change', (e) => applyLook(e.target.value));
  applyLook(picker.querySelector('input:checked')?.value ?? 'default');
}

// ---------------------------------------------------------------- back from an OAuth sign-in

// In redirect mode the provider's sign-in sends the whole page back here with the outcome in
// the query: tell the customer, then tidy the address bar.
function showOAuthOutcome() {
  const outcome = params.get('plugboard_oauth');
  if (!outcome) return;
  const notice = document.getElementById('notice');
  if (notice) {
    const ok = outcome === 'ok';
    notice.textContent = ok
      ? 'Signed in: the connection is ready. Open the integration to finish its setup.'
      : `The sign-in did not finish (${params.get('plugboard_error') ?? outcome}). Try Connect again.`;
    notice.classList.toggle('is-error', !ok);
    notice.hidden = false;
  }
  const clean = new URL(location.href);
  for (const key of [...clean.searchParams.keys()]) if (key.startsWith('plugboard_') || key === 'state') clean.searchParams.delete(key);
  history.replaceState(null, '', clean);
}

// Say so when /plugboard.js is missing (dist not built) instead of showing an empty page.
function watchForBundle() {
  setTimeout(() => {
    if (customElements.get('plug-marketplace')) return;
    const notice = document.getElementById('notice');
    if (!notice) return;
    notice.textContent = 'The Plugboard bundle (/plugboard.js) did not load: run `npm run build`, then reload.';
    notice.classList.add('is-error');
    notice.hidden = false;
  }, 3000);
}

showOAuthOutcome();
watchForBundle();
setUpMarketplace();
setUpEventLog();
setUpThemePicker();
void setUpCustomerSwitch();
setUpInbox();
void refreshTryList();
