// The team app shell: sign-in, first-run setup, invites, the top navigation and a hash router.
// Pages are modules mounted into <main>; each mount may return a cleanup function that runs
// when the route changes. The inbox, admin and insights pages are imported lazily, so a broken
// or missing page module only breaks that page.

import { api, h, setCsrf, toast, fmtTime } from './api.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');

export const session = { me: null };
// The mounted page: `cleanup()` when leaving; `update(sub)` (optional) keeps the page mounted
// when only its sub-route changes (the inbox opening another conversation).
let cleanup = null;
let mounted = { page: null, update: null };
let renderSeq = 0;

function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [page, ...rest] = raw.split('/');
  return { page: page || '', sub: rest.map(decodeURIComponent).join('/') };
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function loadMe() {
  try {
    // Ask first, so a signed-out visit does not log a failed request in the console.
    const status = await api('GET', '/api/auth/status', null, { quiet: true });
    session.setupNeeded = status.setup_needed;
    if (!status.signed_in) throw new Error('signed out');
    const me = await api('GET', '/api/auth/me', null, { allow401: true, quiet: true });
    session.me = me;
    setCsrf(me.csrf_token);
  } catch {
    session.me = null;
    setCsrf('');
  }
  return session.me;
}

function isAdmin() {
  return session.me && (session.me.user.role === 'admin' || session.me.user.role === 'owner');
}

function drawTopbar(page) {
  if (!session.me) {
    topbar.hidden = true;
    topbar.replaceChildren();
    return;
  }
  const link = (href, label, key) =>
    h('a', { href, class: page === key ? 'active' : '', 'aria-current': page === key ? 'page' : null }, label);
  const u = session.me.user;
  const menu = h('details', { class: 'usermenu' },
    h('summary', { 'aria-label': 'Account menu' }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(u.name)), h('span', { class: 'uname' }, u.name)),
    h('div', { class: 'menu' },
      h('p', { class: 'muted small' }, u.email, ' · ', u.role),
      h('a', { href: '#/account' }, 'Account & password'),
      h('button', { type: 'button', onclick: logout }, 'Log out'),
      h('button', { type: 'button', onclick: logoutEverywhere }, 'Log out everywhere')));
  topbar.replaceChildren(
    h('a', { class: 'brand', href: '#/inbox' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Baton'),
    h('nav', { class: 'mainnav', 'aria-label': 'Main' },
      link('#/inbox', 'Inbox', 'inbox'),
      link('#/insights', 'Insights', 'insights'),
      isAdmin() ? link('#/admin', 'Settings', 'admin') : null,
      isAdmin() ? link('#/team', 'Team', 'team') : null),
    h('div', { class: 'spacer' }),
    menu);
  topbar.hidden = false;
}

export function initials(name) {
  return String(name || '?').trim().split(/\s+/).map((w) => w[0] || '').join('').slice(0, 2).toUpperCase() || '?';
}

async function logout() {
  try { await api('POST', '/api/auth/logout'); } catch { /* shown */ }
  session.me = null;
  setCsrf('');
  go('#/login');
}

async function logoutEverywhere() {
  if (!confirm('Sign out of Baton on every device, including this one?')) return;
  try {
    const r = await api('POST', '/api/auth/logout-everywhere');
    toast(`Signed out of ${r.sessions_ended} session${r.sessions_ended === 1 ? '' : 's'}.`);
  } catch { /* shown */ }
  session.me = null;
  setCsrf('');
  go('#/login');
}

function adopt(handle, page) {
  if (typeof handle === 'function') {
    cleanup = handle;
  } else if (handle && typeof handle === 'object') {
    cleanup = handle.cleanup || null;
    mounted = { page, update: handle.update || null };
  }
}

async function render() {
  const seq = ++renderSeq;
  const { page, sub } = parseRoute();
  if (session.me && mounted.page === page && typeof mounted.update === 'function') {
    mounted.update(sub);
    return;
  }
  if (typeof cleanup === 'function') {
    try { cleanup(); } catch { /* ignore */ }
  }
  cleanup = null;
  mounted = { page: null, update: null };
  if (page === 'setup' || page === 'invite') {
    drawTopbar(page);
    main.replaceChildren();
    cleanup = await mountAccept(main, page, sub);
    return;
  }
  if (!session.me) await loadMe();
  if (seq !== renderSeq) return;
  if (!session.me) {
    drawTopbar('login');
    if (page !== 'login') {
      sessionStorage.setItem('baton-after-login', location.hash || '#/inbox');
      history.replaceState(null, '', '#/login');
    }
    main.replaceChildren();
    cleanup = await mountLogin(main);
    return;
  }
  drawTopbar(page || 'inbox');
  main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    if (page === '' || page === 'login') {
      history.replaceState(null, '', '#/inbox');
      return render();
    } else if (page === 'inbox') {
      const m = await import('./inbox.js');
      if (seq !== renderSeq) return;
      main.replaceChildren();
      adopt(await m.mountInbox(main, sub, session), 'inbox');
    } else if (page === 'admin') {
      const m = await import('./admin.js');
      if (seq !== renderSeq) return;
      main.replaceChildren();
      adopt(await m.mountAdmin(main, sub), 'admin');
    } else if (page === 'insights') {
      const m = await import('./insights.js');
      if (seq !== renderSeq) return;
      main.replaceChildren();
      adopt(await m.mountInsights(main, sub), 'insights');
    } else if (page === 'team') {
      main.replaceChildren();
      cleanup = await mountTeam(main);
    } else if (page === 'account') {
      main.replaceChildren();
      cleanup = await mountAccount(main);
    } else {
      main.replaceChildren(h('div', { class: 'page narrow' }, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/inbox' }, 'Back to the inbox'))));
    }
  } catch (e) {
    console.error(e);
    main.replaceChildren(h('div', { class: 'page narrow' },
      h('h1', {}, 'This page could not load'),
      h('p', { class: 'error' }, String((e && e.message) || e)),
      h('p', {}, h('a', { href: '#/inbox' }, 'Back to the inbox'))));
  }
}

// ---- sign-in, setup and invites -------------------------------------------------------------

function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

function authCard(title, ...children) {
  return h('div', { class: 'auth' }, h('div', { class: 'auth-card' },
    h('div', { class: 'auth-brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Baton'),
    h('h1', {}, title), ...children));
}

async function mountLogin(root) {
  const status = { setup_needed: !!session.setupNeeded };
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in');
  const form = h('form', { class: 'stack', onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    submit.disabled = true;
    try {
      const me = await api('POST', '/api/auth/login', { email: email.value, password: password.value }, { quiet: true, allow401: true });
      session.me = me;
      setCsrf(me.csrf_token);
      const next = sessionStorage.getItem('baton-after-login') || '#/inbox';
      sessionStorage.removeItem('baton-after-login');
      go(next.startsWith('#/login') ? '#/inbox' : next);
    } catch (e) {
      err.textContent = e.message;
      password.select();
    } finally {
      submit.disabled = false;
    }
  } }, field('Email', email), field('Password', password), err, submit);
  root.append(authCard('Sign in to your team inbox',
    status.setup_needed
      ? h('p', { class: 'notice' }, 'Baton has no account yet. Open the one-time setup link that ', h('code', {}, 'baton serve'), ' printed in its console to create the owner.')
      : null,
    form));
  email.focus();
}

async function mountAccept(root, kind, token) {
  let invite;
  try {
    invite = await api('GET', `/api/auth/invites/${encodeURIComponent(token)}`, null, { quiet: true });
  } catch (e) {
    root.append(authCard(kind === 'setup' ? 'Setup link not valid' : 'Invite not valid',
      h('p', {}, e.status === 404
        ? 'This link was already used, revoked or has expired. ' + (kind === 'setup' ? 'Restart baton serve for a new setup link, or sign in.' : 'Ask an admin for a new invite.')
        : e.message),
      h('p', {}, h('a', { href: '#/login' }, 'Go to sign-in'))));
    return;
  }
  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, value: invite.email || '' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const err = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary wide' }, invite.kind === 'setup' ? 'Create the owner account' : 'Join the team');
  const form = h('form', { class: 'stack', onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    submit.disabled = true;
    try {
      const me = await api('POST', `/api/auth/invites/${encodeURIComponent(token)}/accept`,
        { name: name.value, email: email.value, password: password.value }, { quiet: true, allow401: true });
      session.me = me;
      setCsrf(me.csrf_token);
      toast(invite.kind === 'setup' ? 'Welcome! Your owner account is ready.' : 'Welcome to the team!');
      go(invite.kind === 'setup' ? '#/admin' : '#/inbox');
    } catch (e) {
      err.textContent = e.message;
    } finally {
      submit.disabled = false;
    }
  } }, field('Your name', name), field('Email', email), field('Password', password, 'At least 10 characters.'), err, submit);
  const title = invite.kind === 'setup' ? 'Set up Baton' : `You are invited as ${invite.role === 'admin' ? 'an admin' : 'an agent'}`;
  root.append(authCard(title,
    h('p', { class: 'muted' }, invite.kind === 'setup'
      ? 'Create the owner account. This link works once.'
      : 'Create your account to answer conversations in the team inbox.'),
    form));
  name.focus();
}

// ---- team (admins) --------------------------------------------------------------------------

async function mountTeam(root) {
  if (!isAdmin()) {
    root.append(h('div', { class: 'page narrow' }, h('h1', {}, 'Team'), h('p', {}, 'Only admins manage the team.')));
    return;
  }
  const list = h('div', { class: 'team-list' });
  const invites = h('div', { class: 'team-list' });
  const linkBox = h('div', { class: 'invite-link', hidden: true });
  const role = h('select', { 'aria-label': 'Role' }, h('option', { value: 'agent' }, 'Agent'), h('option', { value: 'admin' }, 'Admin'));
  const email = h('input', { type: 'email', placeholder: 'name@company.eu (optional)', 'aria-label': 'Email (optional)' });
  const inviteForm = h('form', { class: 'row', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('POST', '/api/team/invites', { role: role.value, email: email.value.trim() });
      const input = h('input', { readonly: true, value: r.link, 'aria-label': 'Invite link', onfocus: (e) => e.target.select() });
      linkBox.replaceChildren(
        h('p', {}, 'Send this link to the new ', r.invite.role, '. It works once and expires ', fmtTime(r.invite.expires_at), '.'),
        h('div', { class: 'row' }, input, h('button', { type: 'button', onclick: async () => {
          try { await navigator.clipboard.writeText(r.link); toast('Link copied.'); } catch { input.select(); }
        } }, 'Copy')));
      linkBox.hidden = false;
      email.value = '';
      loadInvites();
    } catch { /* shown */ }
  } }, role, email, h('button', { type: 'submit', class: 'primary' }, 'Create invite link'));

  async function loadUsers() {
    const users = await api('GET', '/api/team/users');
    const me = session.me.user;
    list.replaceChildren(...users.map((u) => {
      const self = u.id === me.id;
      const locked = self || u.role === 'owner';
      const roleSel = h('select', { 'aria-label': `Role of ${u.name}`, disabled: locked, onchange: async () => {
        try { await api('PATCH', `/api/team/users/${encodeURIComponent(u.id)}`, { role: roleSel.value }); toast('Role changed.'); } catch { roleSel.value = u.role; }
      } }, ['agent', 'admin', 'owner'].filter((r) => r !== 'owner' || u.role === 'owner' || me.role === 'owner')
        .map((r) => h('option', { value: r, selected: u.role === r }, r)));
      const teams = h('input', { value: u.teams.join(', '), placeholder: 'teams, e.g. billing', 'aria-label': `Teams of ${u.name}`, disabled: u.role === 'owner' && !self,
        onchange: async () => {
          try { await api('PATCH', `/api/team/users/${encodeURIComponent(u.id)}`, { teams: teams.value.split(',').map((t) => t.trim()).filter(Boolean) }); toast('Teams saved.'); } catch { /* shown */ }
        } });
      return h('div', { class: 'team-row' + (u.disabled ? ' disabled' : '') },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(u.name)),
        h('div', { class: 'grow' }, h('strong', {}, u.name, self ? ' (you)' : ''), h('div', { class: 'muted small' }, u.email,
          u.disabled ? ' · disabled' : '', u.last_login_at ? ` · last sign-in ${fmtTime(u.last_login_at)}` : ' · never signed in')),
        roleSel, teams,
        locked ? null : h('button', { type: 'button', onclick: async () => {
          try { await api('PATCH', `/api/team/users/${encodeURIComponent(u.id)}`, { disabled: !u.disabled }); loadUsers(); } catch { /* shown */ }
        } }, u.disabled ? 'Enable' : 'Disable'),
        locked ? null : h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm(`Remove ${u.name}? They are signed out everywhere.`)) return;
          try { await api('DELETE', `/api/team/users/${encodeURIComponent(u.id)}`); loadUsers(); } catch { /* shown */ }
        } }, 'Remove'));
    }));
  }

  async function loadInvites() {
    const items = await api('GET', '/api/team/invites');
    invites.replaceChildren(...(items.length ? items.map((i) => h('div', { class: 'team-row' },
      h('div', { class: 'grow' }, h('strong', {}, i.role), ' ', h('span', { class: 'muted' }, i.email || 'any email'),
        h('div', { class: 'muted small' }, 'expires ', fmtTime(i.expires_at))),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        try { await api('DELETE', `/api/team/invites/${encodeURIComponent(i.id)}`); loadInvites(); } catch { /* shown */ }
      } }, 'Revoke'))) : [h('p', { class: 'muted' }, 'No open invites.')]));
  }

  root.append(h('div', { class: 'page' },
    h('h1', {}, 'Team'),
    h('section', { class: 'card' }, h('h2', {}, 'Invite someone'),
      h('p', { class: 'muted' }, 'Agents answer conversations; admins also change settings and the team.'), inviteForm, linkBox),
    h('section', { class: 'card' }, h('h2', {}, 'Members'), list),
    h('section', { class: 'card' }, h('h2', {}, 'Open invites'), invites)));
  await Promise.all([loadUsers(), loadInvites()]);
}

// ---- account --------------------------------------------------------------------------------

async function mountAccount(root) {
  const me = session.me;
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const form = h('form', { class: 'stack', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/api/auth/password', { current: current.value, new: next.value });
      current.value = next.value = '';
      toast('Password changed. Other sessions were signed out.');
    } catch { /* shown */ }
  } }, field('Current password', current), field('New password', next, 'At least 10 characters.'),
  h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Change password')));
  root.append(h('div', { class: 'page narrow' },
    h('h1', {}, 'Account'),
    h('section', { class: 'card' }, h('h2', {}, me.user.name), h('p', { class: 'muted' }, me.user.email, ' · ', me.user.role),
      h('p', {}, `You are signed in on ${me.sessions} device${me.sessions === 1 ? '' : 's'}.`),
      h('button', { type: 'button', onclick: logoutEverywhere }, 'Log out everywhere')),
    h('section', { class: 'card' }, h('h2', {}, 'Password'), form)));
}

// ---- boot -----------------------------------------------------------------------------------

window.addEventListener('hashchange', () => render());
window.addEventListener('baton:signed-out', () => {
  if (!session.me) return;
  session.me = null;
  setCsrf('');
  toast('Your session ended. Please sign in again.', 'error');
  sessionStorage.setItem('baton-after-login', location.hash);
  go('#/login');
});
render();
