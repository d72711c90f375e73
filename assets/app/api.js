// The app's two primitives: `api()` for JSON calls (session cookie + CSRF header, errors shown
// to the user) and `h()` for building DOM. `h` only ever uses createElement/textContent:
// untrusted text (visitor messages, document snippets, names) can never become markup.

let csrfToken = '';

/** Remembers the session's CSRF token (from GET /api/auth/me) for non-GET requests. */
export function setCsrf(token) {
  csrfToken = token || '';
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) meta.setAttribute('content', csrfToken);
}

export function getCsrf() {
  return csrfToken;
}

/** An error answered by the API: `status`, stable `code` and the server's `message`. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Request failed (${status})`);
    this.status = status;
    this.code = (body && body.code) || 'error';
    this.body = body || {};
  }
}

/**
 * Calls the JSON API. `path` is absolute (`/api/...`). Resolves to the parsed body (or null);
 * rejects with ApiError after showing its message, unless `opts.quiet`.
 * A 401 fires `baton:signed-out` so the shell can show the sign-in page.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    const err = new ApiError(0, { message: 'Cannot reach Baton. Check the connection and try again.', code: 'network' });
    if (!opts.quiet) toast(err.message, 'error');
    throw err;
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data);
    if (resp.status === 401 && !opts.allow401) window.dispatchEvent(new CustomEvent('baton:signed-out'));
    else if (!opts.quiet) toast(err.message, 'error');
    throw err;
  }
  return data;
}

/** Builds an element. attrs: class, on<event> handlers, boolean and string attributes. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') node.className = v;
    else if (k === 'value') node.value = v;
    else if (k === 'checked') node.checked = !!v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'href' || k === 'src') node.setAttribute(k, safeUrl(v));
    else if (k === 'innerHTML' || k === 'outerHTML') throw new Error('h(): markup is not allowed');
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Only http(s), mailto, same-page and relative links; anything else becomes '#'. */
export function safeUrl(u) {
  const s = String(u ?? '').trim();
  if (s.startsWith('#') || s.startsWith('/') && !s.startsWith('//')) return s;
  try {
    const url = new URL(s, location.href);
    return ['http:', 'https:', 'mailto:', 'blob:'].includes(url.protocol) ? url.href : '#';
  } catch {
    return '#';
  }
}

/** Only absolute http(s) URLs (citation links); null otherwise. */
export function httpUrl(u) {
  try {
    const url = new URL(String(u ?? ''));
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** A short message in the corner; errors stay until dismissed or 8 s. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', {}, message),
    h('button', { type: 'button', class: 'toast-x', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'));
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/** "3 min", "2 h", "4 d" since an ISO time. */
export function ago(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

export function fmtTime(iso) {
  try { return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }); } catch { return String(iso); }
}
