// The admin console: knowledge, handoff, schedule and team, widget, security and data,
// visitor data. Loaded lazily by the app shell's router at #/admin/<section>.
// Untrusted text (document titles, errors, visitor data) only ever goes into textContent.

import { api } from './api.js';

const SECTIONS = [
  ['knowledge', 'Knowledge'],
  ['handoff', 'Handoff'],
  ['schedule', 'Schedule & team'],
  ['widget', 'Widget'],
  ['security', 'Security & data'],
  ['visitors', 'Visitor data'],
];

// ---- small DOM helpers ----------------------------------------------------------------------

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'value') node.value = v;
    else if (k === 'checked') node.checked = !!v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function call(method, path, body) {
  return api(method, '/api' + path, body);
}

function errorText(e) {
  return (e && (e.message || (e.body && e.body.message))) || String(e);
}

function notice(parent) {
  const box = el('div', { class: 'adm-notice', role: 'status', 'aria-live': 'polite' });
  parent.append(box);
  return {
    ok(text) { box.className = 'adm-notice adm-ok'; box.textContent = text; },
    err(e) { box.className = 'adm-notice adm-err'; box.textContent = errorText(e); },
    clear() { box.className = 'adm-notice'; box.textContent = ''; },
  };
}

function field(label, input, hint) {
  return el('label', { class: 'adm-field' }, el('span', { class: 'adm-label' }, label), input,
    hint ? el('small', { class: 'adm-hint' }, hint) : null);
}

function checkbox(label, checked, hint) {
  const input = el('input', { type: 'checkbox', checked });
  return [el('label', { class: 'adm-check' }, input, ' ', label, hint ? el('small', { class: 'adm-hint' }, ' ' + hint) : null), input];
}

function lines(text) {
  return text.split('\n').map((s) => s.trim()).filter(Boolean);
}

function commas(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function card(title, ...children) {
  return el('section', { class: 'adm-card' }, el('h2', {}, title), ...children);
}

function fmtBytes(n) {
  return n >= 1048576 ? `${Math.round(n / 1048576)} MB` : `${Math.round(n / 1024)} KB`;
}

function fmtDate(s) {
  try { return new Date(s).toLocaleString(); } catch { return s; }
}

// ---- entry point ----------------------------------------------------------------------------

let pollTimer = null;

export function mountAdmin(root, subpath) {
  injectStyle();
  clearInterval(pollTimer);
  const section = SECTIONS.some(([k]) => k === subpath) ? subpath : 'knowledge';
  root.replaceChildren();
  const nav = el('nav', { class: 'adm-tabs', 'aria-label': 'Admin sections' },
    SECTIONS.map(([k, label]) => el('a', { href: `#/admin/${k}`, class: k === section ? 'active' : '', 'aria-current': k === section ? 'page' : null }, label)));
  const body = el('div', { class: 'adm-body' });
  root.append(el('div', { class: 'adm' }, el('h1', {}, 'Settings'), nav, body));
  const render = { knowledge, handoff, schedule, widget, security, visitors }[section];
  render(body).catch((e) => body.append(el('p', { class: 'adm-notice adm-err' }, errorText(e))));
  return () => clearInterval(pollTimer);
}

// ---- knowledge ------------------------------------------------------------------------------

async function knowledge(body) {
  const settings = await call('GET', '/admin/settings');
  const sourcesBox = el('div', { class: 'adm-sources' });

  const url = el('input', { type: 'url', placeholder: 'https://docs.example.com/', required: true, 'aria-label': 'Website address' });
  const crawlMsg = el('div');
  const crawlNote = notice(crawlMsg);
  const crawlForm = el('form', { class: 'adm-row', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await call('POST', '/admin/knowledge/sites', { url: url.value.trim() });
      crawlNote.ok('Crawling started.');
      url.value = '';
      refresh();
    } catch (e) { crawlNote.err(e); }
  } }, url, el('button', { type: 'submit', class: 'primary' }, 'Crawl site'));

  const files = el('input', { type: 'file', multiple: true, accept: '.md,.mdx,.markdown,.txt,.html,.htm,.pdf', 'aria-label': 'Files to upload' });
  const upMsg = el('div');
  const upNote = notice(upMsg);
  const upForm = el('form', { class: 'adm-row', onsubmit: async (ev) => {
    ev.preventDefault();
    if (!files.files.length) { upNote.err('Choose at least one file.'); return; }
    let total = 0;
    const form = new FormData();
    for (const f of files.files) { total += f.size; form.append('files', f, f.name); }
    if (total > settings.max_upload_bytes) { upNote.err(`Uploads are limited to ${fmtBytes(settings.max_upload_bytes)}.`); return; }
    try {
      await upload(form);
      upNote.ok('Uploaded; the files are being read.');
      files.value = '';
      refresh();
    } catch (e) { upNote.err(e); }
  } }, files, el('button', { type: 'submit', class: 'primary' }, 'Upload'));

  body.append(
    card('Add knowledge',
      el('p', { class: 'adm-hint' }, 'Baton answers from these sources and cites them.'),
      field('Crawl a website', crawlForm, 'Pages under this address on the same site are read.'), crawlMsg,
      field('Upload files', upForm, `Markdown, MDX, text, HTML or PDF, up to ${fmtBytes(settings.max_upload_bytes)} per upload.`), upMsg),
    card('Sources', sourcesBox),
  );
  body.append(await snippetsCard());

  async function refresh() {
    let list;
    try { list = await call('GET', '/admin/knowledge/sources'); } catch (e) { sourcesBox.replaceChildren(el('p', { class: 'adm-notice adm-err' }, errorText(e))); return; }
    sourcesBox.replaceChildren(list.length ? el('div', { class: 'adm-list' }, list.map(sourceRow)) : el('p', { class: 'adm-empty' }, 'No sources yet. Crawl your help center or upload files.'));
    clearInterval(pollTimer);
    if (list.some((s) => s.status === 'running')) pollTimer = setInterval(refresh, 2000);
  }

  function sourceRow(s) {
    const pct = s.total ? Math.round((100 * s.done) / s.total) : (s.status === 'done' ? 100 : 0);
    const actions = el('div', { class: 'adm-actions' });
    if (s.refreshable) {
      actions.append(el('button', { type: 'button', disabled: s.status === 'running', onclick: async () => {
        try { await call('POST', `/admin/knowledge/sources/${encodeURIComponent(s.id)}/refresh`); refresh(); } catch (e) { alert(errorText(e)); }
      } }, s.kind === 'site' ? 'Re-crawl' : 'Re-read'));
    }
    if (s.kind !== 'snippets') {
      actions.append(el('button', { type: 'button', class: 'danger', disabled: s.status === 'running', onclick: async () => {
        if (!confirm(`Delete "${s.name}" and its ${s.documents} documents?`)) return;
        try { await call('DELETE', `/admin/knowledge/sources/${encodeURIComponent(s.id)}`); refresh(); } catch (e) { alert(errorText(e)); }
      } }, 'Delete'));
    }
    const errors = s.error_count ? el('details', { class: 'adm-errors' },
      el('summary', {}, `${s.error_count} document${s.error_count === 1 ? '' : 's'} could not be read`),
      el('ul', {}, s.errors.map((e) => el('li', {}, el('code', {}, e.item), ': ', e.message)))) : null;
    return el('div', { class: 'adm-source' },
      el('div', { class: 'adm-source-head' },
        el('div', {}, el('strong', {}, s.name), ' ', el('span', { class: 'adm-kind' }, s.kind),
          el('div', { class: 'adm-hint adm-ellipsis', title: s.location }, s.location)),
        el('span', { class: `adm-badge adm-${s.status}` }, s.status)),
      s.status === 'running' ? el('progress', { max: 100, value: pct, 'aria-label': `Progress ${pct}%` }) : null,
      el('div', { class: 'adm-hint' }, `${s.documents} documents`,
        s.status === 'running' ? ` · ${s.done} of ${s.total || '?'} read` : '',
        s.changed || s.unchanged || s.removed ? ` · last run: ${s.changed} new or changed, ${s.unchanged} unchanged, ${s.removed} removed` : '',
        ` · updated ${fmtDate(s.updated)}`),
      s.message ? el('p', { class: 'adm-notice adm-err' }, s.message) : null,
      errors, actions);
  }

  await refresh();
}

// Multipart upload through the same session (and CSRF header) as api().
async function upload(form) {
  const headers = {};
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || readCookie('baton_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch('/api/admin/knowledge/uploads', { method: 'POST', body: form, headers, credentials: 'same-origin' });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.message || `upload failed (${r.status})`);
  return data;
}

function readCookie(name) {
  return document.cookie.split('; ').find((c) => c.startsWith(name + '='))?.split('=')[1];
}

async function snippetsCard() {
  const list = el('div', { class: 'adm-list' });
  const q = el('textarea', { rows: 2, placeholder: 'How do I change the invoice address?', 'aria-label': 'Question' });
  const a = el('textarea', { rows: 4, placeholder: 'Go to Settings → Billing → Invoice address…', 'aria-label': 'Answer' });
  let editing = null;
  const save = el('button', { type: 'submit', class: 'primary' }, 'Save snippet');
  const cancel = el('button', { type: 'button', hidden: true, onclick: () => reset() }, 'Cancel');
  const msgBox = el('div');
  const msg = notice(msgBox);
  const form = el('form', { class: 'adm-stack', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const payload = { question: q.value, answer: a.value };
      if (editing) await call('PUT', `/admin/knowledge/snippets/${encodeURIComponent(editing)}`, payload);
      else await call('POST', '/admin/knowledge/snippets', payload);
      msg.ok(editing ? 'Snippet updated; answers use it now.' : 'Snippet saved; answers use it now.');
      reset();
      load();
    } catch (e) { msg.err(e); }
  } }, field('Question', q), field('Answer', a), el('div', { class: 'adm-actions' }, save, cancel), msgBox);

  function reset() { editing = null; q.value = ''; a.value = ''; save.textContent = 'Save snippet'; cancel.hidden = true; }

  async function load() {
    const items = await call('GET', '/admin/knowledge/snippets');
    list.replaceChildren(...(items.length ? items.map((s) => el('div', { class: 'adm-snippet' },
      el('strong', {}, s.question), el('p', {}, s.answer),
      el('div', { class: 'adm-hint' }, `${s.author || 'unknown'} · ${fmtDate(s.updated)}`),
      el('div', { class: 'adm-actions' },
        el('button', { type: 'button', onclick: () => { editing = s.id; q.value = s.question; a.value = s.answer; save.textContent = 'Update snippet'; cancel.hidden = false; q.focus(); } }, 'Edit'),
        el('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm('Delete this snippet?')) return;
          try { await call('DELETE', `/admin/knowledge/snippets/${encodeURIComponent(s.id)}`); load(); } catch (e) { msg.err(e); }
        } }, 'Delete')))) : [el('p', { class: 'adm-empty' }, 'No snippets yet. Agents can also save answers from a conversation.')]));
  }
  await load();
  return card('Q&A snippets', el('p', { class: 'adm-hint' }, 'Short answers written by your team; Baton cites them like any page.'), form, list);
}

// ---- handoff --------------------------------------------------------------------------------

const TRIGGERS = [
  ['unsure', 'When the AI is not sure'],
  ['human_request', 'When the visitor asks for a person (any EU language)'],
  ['sensitive', 'On sensitive topics'],
  ['frustration', 'When the visitor is frustrated or loops'],
  ['rules', 'Apply the rules below'],
];

async function handoff(body) {
  const s = await call('GET', '/admin/settings');
  const h = structuredClone(s.handoff);
  const out = el('div');
  const note = notice(out);

  const toggles = TRIGGERS.map(([k, label]) => {
    const [row, input] = checkbox(label, h[k]);
    input.addEventListener('change', () => { h[k] = input.checked; });
    return row;
  });
  const num = (k, label, hint, step = 1) => {
    const input = el('input', { type: 'number', step, value: h[k] });
    input.addEventListener('change', () => { h[k] = Number(input.value); });
    return field(label, input, hint);
  };

  const topicsBox = el('div', { class: 'adm-list' });
  function drawTopics() {
    topicsBox.replaceChildren(...Object.entries(h.topics).map(([name, t]) => {
      const [en, enInput] = checkbox('On', t.enabled);
      enInput.addEventListener('change', () => { t.enabled = enInput.checked; });
      const label = el('input', { value: t.label || '', 'aria-label': `Label of ${name}` });
      label.addEventListener('change', () => { t.label = label.value; });
      const ex = el('textarea', { rows: 3, value: (t.examples || []).join('\n'), placeholder: 'One example phrase per line, in any language' });
      ex.addEventListener('change', () => { t.examples = lines(ex.value); });
      const kw = el('input', { value: (t.keywords || []).join(', '), placeholder: 'refund, Rückerstattung' });
      kw.addEventListener('change', () => { t.keywords = commas(kw.value); });
      return el('div', { class: 'adm-topic' },
        el('div', { class: 'adm-source-head' }, el('strong', {}, name), en),
        field('Label', label), field('Example phrases', ex, 'Visitors writing something close to these are handed off.'), field('Keywords', kw),
        el('button', { type: 'button', class: 'danger', onclick: () => { delete h.topics[name]; drawTopics(); } }, 'Remove topic'));
    }));
  }
  const newTopic = el('input', { placeholder: 'e.g. cancellation', 'aria-label': 'New topic name' });
  const addTopic = el('button', { type: 'button', onclick: () => {
    const name = newTopic.value.trim().toLowerCase().replace(/\s+/g, '_');
    if (!name || h.topics[name]) return;
    h.topics[name] = { enabled: true, label: newTopic.value.trim(), examples: [], keywords: [] };
    newTopic.value = '';
    drawTopics();
  } }, 'Add topic');

  const rulesBox = el('div', { class: 'adm-list' });
  function drawRules() {
    rulesBox.replaceChildren(...h.rule.map((r, i) => ruleEditor(r, i)));
    if (!h.rule.length) rulesBox.append(el('p', { class: 'adm-empty' }, 'No rules. Rules can hand off on keywords, pages, visitor attributes or times, route to a team, or reply with a fixed text.'));
  }
  function ruleEditor(r, i) {
    r.when = r.when || {};
    const bind = (input, set) => { input.addEventListener('change', () => set(input.value)); return input; };
    const [en, enInput] = checkbox('Enabled', r.enabled !== false);
    enInput.addEventListener('change', () => { r.enabled = enInput.checked; });
    const action = bind(el('select', {}, ['hand_off', 'hand_off_to_team', 'never_hand_off', 'reply'].map((a) => el('option', { value: a, selected: r.action === a }, a.replaceAll('_', ' ')))), (v) => { r.action = v; });
    const within = bind(el('select', {},
      el('option', { value: '', selected: r.when.within_hours == null }, 'any time'),
      el('option', { value: 'true', selected: r.when.within_hours === true }, 'during support hours'),
      el('option', { value: 'false', selected: r.when.within_hours === false }, 'outside support hours')), (v) => { r.when.within_hours = v === '' ? null : v === 'true'; });
    const move = (d) => { const j = i + d; if (j < 0 || j >= h.rule.length) return; [h.rule[i], h.rule[j]] = [h.rule[j], h.rule[i]]; drawRules(); };
    return el('div', { class: 'adm-rule' },
      el('div', { class: 'adm-grid' },
        field('Name', bind(el('input', { value: r.name || '' }), (v) => { r.name = v; })),
        field('Action', action),
        field('Team', bind(el('input', { value: r.team || '', placeholder: 'for “hand off to team”' }), (v) => { r.team = v; })),
        field('Reply', bind(el('input', { value: r.reply || '', placeholder: 'for “reply”' }), (v) => { r.reply = v; })),
        field('Keywords', bind(el('input', { value: (r.when.keywords || []).join(', ') }), (v) => { r.when.keywords = commas(v); }), 'Any of these words'),
        field('Regex', bind(el('input', { value: r.when.regex || '' }), (v) => { r.when.regex = v; })),
        field('Topic', bind(el('input', { value: r.when.topic || '' }), (v) => { r.when.topic = v; })),
        field('Page contains', bind(el('input', { value: r.when.page || '' }), (v) => { r.when.page = v; })),
        field('Time', bind(el('input', { value: r.when.time || '', placeholder: '22:00-07:00' }), (v) => { r.when.time = v; })),
        field('When', within)),
      el('div', { class: 'adm-actions' }, en,
        el('button', { type: 'button', onclick: () => move(-1), 'aria-label': 'Move up' }, '↑'),
        el('button', { type: 'button', onclick: () => move(1), 'aria-label': 'Move down' }, '↓'),
        el('button', { type: 'button', class: 'danger', onclick: () => { h.rule.splice(i, 1); drawRules(); } }, 'Remove rule')));
  }
  drawTopics();
  drawRules();

  // Try a message: which triggers fire, and why (uses the saved settings).
  const tryText = el('textarea', { rows: 2, placeholder: 'e.g. can someone from billing call me? I was charged twice', 'aria-label': 'Message to try' });
  const tryOut = el('div', { class: 'adm-try', 'aria-live': 'polite' });
  const tryMsgs = el('div');
  const tryNote = notice(tryMsgs);
  const tryIt = async () => {
    tryNote.clear();
    try {
      const r = await call('POST', '/admin/handoff/test', { text: tryText.value });
      const verdict = r.hands_off ? 'Hands off to the team.' : (r.suppressed_by ? `A rule (“${r.suppressed_by}”) stops the handoff.` : 'No handoff: the AI answers.');
      tryOut.replaceChildren(
        el('p', { class: r.hands_off ? 'adm-try-yes' : 'adm-try-no' }, el('strong', {}, verdict)),
        r.fired.length ? el('ul', {}, ...r.fired.map((f) => el('li', {},
          el('strong', {}, f.trigger.replaceAll('_', ' ') + (f.topic ? ` (${f.topic.replaceAll('_', ' ')})` : '')), ': ', f.reason, ' ',
          el('code', {}, f.evidence)))) : el('p', { class: 'adm-hint' }, 'Nothing fired.'),
        r.reply ? el('p', {}, 'Fixed reply: ', r.reply) : '',
        r.probabilities.length ? el('p', { class: 'adm-hint' }, 'Model: ', r.probabilities.map((p) =>
          `${p.trigger.replaceAll('_', ' ')} ${Math.round(p.probability * 100)}% (fires at ${Math.round(p.threshold * 100)}%)`).join(' · ')) : '');
    } catch (e) { tryNote.err(e); }
  };
  tryText.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); tryIt(); } });

  body.append(
    card('Triggers', el('p', { class: 'adm-hint' }, 'The widget always shows “Talk to the team”; these hand off automatically.'), ...toggles,
      el('div', { class: 'adm-grid' },
        num('unsure_streak', 'Unsure answers in a row', '1 = hand off at the first unsure answer'),
        num('unhelpful_ratings', '“Not helpful” ratings', '0 = off'),
        num('sensitive_margin', 'Your topics: example margin', 'Higher = fewer handoffs on the topics you add', 0.01),
        num('loop_similarity', 'Repeated question similarity', '0..1', 0.01),
        num('email_after_secs', 'Offer email after (seconds away)', ''))),
    card('Sensitive topics', topicsBox, el('div', { class: 'adm-row' }, newTopic, addTopic)),
    card('Rules', el('p', { class: 'adm-hint' }, 'Checked in order; the first matching rule decides.'), rulesBox,
      el('button', { type: 'button', onclick: () => { h.rule.push({ name: '', enabled: true, when: {}, action: 'hand_off', team: '', reply: '' }); drawRules(); } }, 'Add rule')),
    card('Try a message', el('p', { class: 'adm-hint' }, 'Type a message as a visitor would; see which triggers fire and why. Uses the saved settings.'),
      tryText, el('button', { type: 'button', onclick: tryIt }, 'Try it'), tryMsgs, tryOut),
    el('div', { class: 'adm-save' }, el('button', { type: 'button', class: 'primary', onclick: async () => {
      try { await call('PUT', '/admin/settings/handoff', h); note.ok('Handoff settings saved.'); } catch (e) { note.err(e); }
    } }, 'Save handoff settings'), out));
}

// ---- schedule and team ----------------------------------------------------------------------

const DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];

async function schedule(body) {
  const s = await call('GET', '/admin/settings');
  const hours = structuredClone(s.hours);
  const out = el('div');
  const note = notice(out);
  const tz = el('input', { value: hours.timezone, list: 'adm-tz', placeholder: 'Europe/Berlin' });
  const tzList = el('datalist', { id: 'adm-tz' }, (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : []).map((z) => el('option', { value: z })));
  const dayInputs = DAYS.map(([k, label]) => {
    const input = el('input', { value: (hours.weekly[k] || []).join(', '), placeholder: 'closed', 'aria-label': `${label} hours` });
    return [k, el('label', { class: 'adm-day' }, el('span', {}, label), input), input];
  });
  const holidays = el('div', { class: 'adm-list' });
  const drawHolidays = () => holidays.replaceChildren(...hours.holidays.map((d, i) => el('div', { class: 'adm-row' },
    el('span', {}, d), el('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${d}`, onclick: () => { hours.holidays.splice(i, 1); drawHolidays(); } }, 'Remove'))));
  const newHoliday = el('input', { type: 'date', 'aria-label': 'Holiday date' });
  drawHolidays();
  const promise = el('input', { value: hours.reply_promise });
  body.append(
    card('Support hours',
      field('Time zone', tz), tzList,
      el('div', { class: 'adm-days' }, dayInputs.map(([, row]) => row)),
      el('p', { class: 'adm-hint' }, 'Ranges like 09:00-12:00, 13:00-17:00; empty = closed.'),
      field('When nobody is available, promise', promise)),
    card('Holidays', holidays, el('div', { class: 'adm-row' }, newHoliday, el('button', { type: 'button', onclick: () => {
      if (newHoliday.value && !hours.holidays.includes(newHoliday.value)) { hours.holidays.push(newHoliday.value); hours.holidays.sort(); drawHolidays(); }
      newHoliday.value = '';
    } }, 'Add holiday'))),
    el('div', { class: 'adm-save' }, el('button', { type: 'button', class: 'primary', onclick: async () => {
      hours.timezone = tz.value.trim();
      hours.reply_promise = promise.value;
      for (const [k, , input] of dayInputs) {
        const ranges = commas(input.value);
        if (ranges.length) hours.weekly[k] = ranges; else delete hours.weekly[k];
      }
      try { await call('PUT', '/admin/settings/hours', hours); note.ok('Support hours saved.'); } catch (e) { note.err(e); }
    } }, 'Save support hours'), out),
    card('Team', el('p', {}, 'Invite agents, set roles and teams on the ', el('a', { href: '#/team' }, 'Team page'), '.'),
      Object.keys(hours.teams || {}).length ? el('p', { class: 'adm-hint' }, 'Teams with their own hours: ', Object.keys(hours.teams).join(', ')) : null),
  );
}

// ---- widget ---------------------------------------------------------------------------------

async function widget(body) {
  const s = await call('GET', '/admin/settings');
  const w = structuredClone(s.widget);
  const out = el('div');
  const note = notice(out);
  const color = el('input', { type: 'color', value: w.color.length === 7 ? w.color : '#2563eb' });
  const position = el('select', {}, el('option', { value: 'right', selected: w.position === 'right' }, 'Bottom right'), el('option', { value: 'left', selected: w.position === 'left' }, 'Bottom left'));
  const team = el('input', { value: w.team_name });
  const greeting = el('textarea', { rows: 2, value: w.greeting, placeholder: 'Empty: a greeting in the visitor’s language' });
  const avatar = el('input', { value: w.avatar_url, placeholder: 'https://… or empty for initials' });
  const preview = el('div', { class: 'adm-preview', 'aria-label': 'Widget preview' });
  const snippet = el('pre', { class: 'adm-code' }, el('code', {}, s.install_snippet));

  function draw() {
    Object.assign(w, { color: color.value, position: position.value, team_name: team.value, greeting: greeting.value, avatar_url: avatar.value.trim() });
    const initials = (w.team_name || 'S').split(/\s+/).map((x) => x[0]).join('').slice(0, 2).toUpperCase();
    const av = w.avatar_url && /^(https?:|data:image\/)/.test(w.avatar_url)
      ? el('img', { src: w.avatar_url, alt: '', class: 'adm-avatar' })
      : el('span', { class: 'adm-avatar', style: `background:${w.color}` }, initials);
    preview.replaceChildren(el('div', { class: `adm-pv adm-pv-${w.position}` },
      el('div', { class: 'adm-pv-panel' },
        el('div', { class: 'adm-pv-head', style: `background:${w.color}` }, av, el('strong', {}, w.team_name || 'Support')),
        el('div', { class: 'adm-pv-msg' }, w.greeting || 'Hi! Ask me anything — I answer from our docs, and the team is one click away.'),
        el('div', { class: 'adm-pv-talk', style: `color:${w.color};border-color:${w.color}` }, 'Talk to the team')),
      el('div', { class: 'adm-pv-bubble', style: `background:${w.color}` }, '💬')));
  }
  for (const i of [color, position, team, greeting, avatar]) i.addEventListener('input', draw);
  draw();

  body.append(
    el('div', { class: 'adm-two' },
      card('Appearance', field('Colour', color), field('Position', position), field('Team name', team), field('Greeting', greeting), field('Avatar', avatar),
        el('div', { class: 'adm-save' }, el('button', { type: 'button', class: 'primary', onclick: async () => {
          try { const v = await call('PUT', '/admin/settings/widget', w); snippet.firstChild.textContent = v.install_snippet; note.ok('Widget saved; visitors see it on their next page load.'); } catch (e) { note.err(e); }
        } }, 'Save widget'), out)),
      card('Preview', preview)),
    card('Install', el('p', {}, 'Paste this before </body> on every page that should show the chat:'), snippet,
      el('button', { type: 'button', onclick: async (ev) => {
        const text = snippet.textContent;
        try { await navigator.clipboard.writeText(text); } catch {
          const r = document.createRange(); r.selectNodeContents(snippet); const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); document.execCommand('copy');
        }
        ev.target.textContent = 'Copied'; setTimeout(() => { ev.target.textContent = 'Copy snippet'; }, 1500);
      } }, 'Copy snippet'),
      el('p', { class: 'adm-hint' }, 'Logged-in users: call Baton.identify({id, email, name, signature}) with an HMAC signature made with the identity secret (Security & data).')),
  );
}

// ---- security and data ----------------------------------------------------------------------

async function security(body) {
  const s = await call('GET', '/admin/settings');
  const secOut = el('div');
  const secNote = notice(secOut);
  const origins = el('textarea', { rows: 3, value: s.security.allowed_origins.join('\n'), placeholder: 'https://www.example.com' });
  const retention = el('input', { type: 'number', min: 0, value: s.security.retention_days });
  const [cookieRow, cookies] = checkbox('Secure cookies (HTTPS only)', s.security.secure_cookies);
  const secretState = el('span', { class: `adm-badge ${s.security.identity_secret_set ? 'adm-done' : 'adm-idle'}` }, s.security.identity_secret_set ? 'set' : 'not set');
  const secret = el('input', { type: 'password', autocomplete: 'new-password', placeholder: s.security.identity_secret_set ? 'Stored — type to replace' : 'At least 16 characters' });
  let clearSecret = false;
  const shown = el('div');

  const saveSecurity = async () => {
    const payload = { allowed_origins: lines(origins.value), secure_cookies: cookies.checked, retention_days: Number(retention.value) || 0 };
    if (secret.value) payload.identity_secret = secret.value;
    else if (clearSecret) payload.identity_secret = '';
    try {
      const v = await call('PUT', '/admin/settings/security', payload);
      secret.value = ''; clearSecret = false; shown.replaceChildren();
      secretState.textContent = v.security.identity_secret_set ? 'set' : 'not set';
      secretState.className = `adm-badge ${v.security.identity_secret_set ? 'adm-done' : 'adm-idle'}`;
      secret.placeholder = v.security.identity_secret_set ? 'Stored — type to replace' : 'At least 16 characters';
      secNote.ok('Security settings saved.');
    } catch (e) { secNote.err(e); }
  };

  const smtpOut = el('div');
  const smtpNote = notice(smtpOut);
  const sm = s.smtp;
  const host = el('input', { value: sm.host, placeholder: 'smtp.example.com' });
  const port = el('input', { type: 'number', value: sm.port });
  const user = el('input', { value: sm.username, autocomplete: 'off' });
  const pass = el('input', { type: 'password', autocomplete: 'new-password', placeholder: sm.password_set ? 'Stored — type to replace' : '' });
  const sec = el('select', {}, ['starttls', 'tls', 'none'].map((x) => el('option', { value: x, selected: sm.security === x }, x)));
  const from = el('input', { value: sm.from });

  const ans = s.answer;
  const threshold = el('input', { type: 'number', step: 0.05, min: 0, max: 1, value: ans.confidence_threshold });
  const cites = el('input', { type: 'number', min: 1, max: 10, value: ans.max_citations });
  const ansOut = el('div');
  const ansNote = notice(ansOut);

  body.append(
    card('Widget security',
      field('Allowed origins', origins, 'One per line. Empty allows any site to embed the widget.'),
      el('div', { class: 'adm-field' }, el('span', { class: 'adm-label' }, 'Identity verification secret ', secretState), secret,
        el('small', { class: 'adm-hint' }, 'Write-only: Baton never shows it again. Your server signs user ids with it.'),
        el('div', { class: 'adm-actions' },
          el('button', { type: 'button', onclick: () => {
            const bytes = crypto.getRandomValues(new Uint8Array(32));
            const value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
            secret.value = value;
            shown.replaceChildren(el('p', { class: 'adm-notice adm-ok' }, 'Copy it now to your server configuration; it is shown only until you save: ', el('code', {}, value)));
          } }, 'Generate new secret'),
          el('button', { type: 'button', class: 'danger', onclick: () => { clearSecret = true; secret.value = ''; shown.replaceChildren(el('p', { class: 'adm-hint' }, 'The secret will be removed when you save.')); } }, 'Remove secret')),
        shown),
      cookieRow,
      field('Delete conversations after (days)', retention, '0 keeps them. Counted from the last activity; checked every hour.'),
      el('div', { class: 'adm-save' }, el('button', { type: 'button', class: 'primary', onclick: saveSecurity }, 'Save security'), secOut)),
    card('Email (SMTP)', el('p', { class: 'adm-hint' }, 'Used to reply to visitors who left.'),
      el('div', { class: 'adm-grid' }, field('Host', host), field('Port', port), field('Username', user), field('Password', pass, sm.password_set ? 'A password is stored.' : 'No password stored.'), field('Security', sec), field('From', from)),
      el('div', { class: 'adm-save' }, el('button', { type: 'button', class: 'primary', onclick: async () => {
        const payload = { host: host.value, port: Number(port.value), username: user.value, security: sec.value, from: from.value };
        if (pass.value) payload.password = pass.value;
        try { const v = await call('PUT', '/admin/settings/smtp', payload); pass.value = ''; pass.placeholder = v.smtp.password_set ? 'Stored — type to replace' : ''; smtpNote.ok('Email settings saved.'); } catch (e) { smtpNote.err(e); }
      } }, 'Save email'), smtpOut)),
    card('Answers', el('div', { class: 'adm-grid' }, field('Confidence threshold', threshold, 'Below it, Baton says it is not sure.'), field('Citations at most', cites)),
      el('div', { class: 'adm-save' }, el('button', { type: 'button', class: 'primary', onclick: async () => {
        try { await call('PUT', '/admin/settings/answer', { confidence_threshold: Number(threshold.value), max_citations: Number(cites.value) }); ansNote.ok('Answer settings saved.'); } catch (e) { ansNote.err(e); }
      } }, 'Save answers'), ansOut)),
  );
}

// ---- visitor data (GDPR) --------------------------------------------------------------------

async function visitors(body) {
  const kind = el('select', { 'aria-label': 'Find by' }, el('option', { value: 'email' }, 'Email'), el('option', { value: 'visitor' }, 'Visitor id'), el('option', { value: 'conversation' }, 'Conversation id'));
  const value = el('input', { placeholder: 'name@example.com', 'aria-label': 'Value' });
  kind.addEventListener('change', () => { value.placeholder = kind.value === 'email' ? 'name@example.com' : 'id'; });
  const result = el('div');
  const out = el('div');
  const note = notice(out);
  const query = () => ({ [kind.value]: value.value.trim() });

  const exportBtn = el('button', { type: 'button', class: 'primary', onclick: async () => {
    note.clear();
    try {
      const q = query();
      const data = await call('GET', `/admin/visitors/export?${new URLSearchParams(q)}`);
      const n = data.conversations.length;
      const m = data.conversations.reduce((a, c) => a + c.messages.length, 0);
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      const a = el('a', { href: URL.createObjectURL(blob), download: `baton-visitor-export-${new Date().toISOString().slice(0, 10)}.json` }, 'Download the export (JSON)');
      result.replaceChildren(el('p', {}, `${data.visitors.length} visitor record(s), ${n} conversation(s), ${m} message(s). `, a),
        el('ul', {}, data.conversations.map((c) => el('li', {}, el('a', { href: `#/inbox/${encodeURIComponent(c.conversation.id)}` }, fmtDate(c.conversation.created_at)), ` — ${c.messages.length} messages, ${c.conversation.state}`))));
      a.click();
    } catch (e) { result.replaceChildren(); note.err(e); }
  } }, 'Export');

  const eraseBtn = el('button', { type: 'button', class: 'danger', onclick: async () => {
    note.clear();
    if (!value.value.trim()) { note.err('Enter an email or an id first.'); return; }
    if (prompt(`This deletes every conversation and message of this visitor for good. Type ERASE to confirm.`) !== 'ERASE') return;
    try {
      const r = await call('POST', '/admin/visitors/erase', query());
      result.replaceChildren();
      note.ok(`Erased ${r.conversations} conversation(s), ${r.messages} message(s) and ${r.visitors} visitor record(s).`);
    } catch (e) { note.err(e); }
  } }, 'Erase…');

  body.append(card('Visitor data (GDPR)',
    el('p', { class: 'adm-hint' }, 'Find a visitor by the email they gave, their visitor id, or one of their conversations. Export gives them a copy of their data; erasing removes their conversations, messages and visitor record.'),
    el('div', { class: 'adm-row' }, kind, value, exportBtn, eraseBtn), out, result));
}

// ---- styles ---------------------------------------------------------------------------------

export function injectStyle() {
  if (document.getElementById('adm-style')) return;
  document.head.append(el('style', { id: 'adm-style' }, `
.adm{max-width:1100px;margin:0 auto;padding:16px 20px 48px}
.adm h1{font-size:1.4rem;margin:0 0 12px}
.adm-tabs{display:flex;gap:4px;flex-wrap:wrap;border-bottom:1px solid var(--border,#d4d4d8);margin-bottom:16px}
.adm-tabs a{padding:8px 12px;text-decoration:none;color:inherit;border-bottom:2px solid transparent;opacity:.8}
.adm-tabs a.active{border-bottom-color:var(--accent,#2563eb);opacity:1;font-weight:600}
.adm-card{background:var(--surface,#fff);border:1px solid var(--border,#e4e4e7);border-radius:10px;padding:16px 18px;margin-bottom:16px}
.adm-card h2{font-size:1.05rem;margin:0 0 10px}
.adm-field{display:flex;flex-direction:column;gap:4px;margin:10px 0}
.adm-label{font-weight:600;font-size:.9rem}
.adm-hint{color:var(--muted,#71717a);font-size:.85rem}
.adm-check{display:flex;align-items:center;gap:6px;margin:6px 0}
.adm input:not([type=checkbox]):not([type=color]),.adm select,.adm textarea{font:inherit;padding:7px 9px;border:1px solid var(--border,#d4d4d8);border-radius:6px;background:var(--input-bg,transparent);color:inherit;min-width:0}
.adm textarea{width:100%;box-sizing:border-box;resize:vertical}
.adm button{font:inherit;padding:7px 12px;border-radius:6px;border:1px solid var(--border,#d4d4d8);background:var(--surface-2,#f4f4f5);color:inherit;cursor:pointer}
.adm button.primary{background:var(--accent,#2563eb);border-color:var(--accent,#2563eb);color:#fff}
.adm button.danger{color:var(--danger,#b91c1c)}
.adm button:disabled{opacity:.5;cursor:default}
.adm-row{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.adm-row input{flex:1 1 220px}
.adm-stack{display:flex;flex-direction:column}
.adm-actions{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin-top:8px}
.adm-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:0 16px}
.adm-two{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px}
@media (max-width:900px){.adm-two{grid-template-columns:1fr}}
.adm-list{display:flex;flex-direction:column;gap:10px}
.adm-source,.adm-snippet,.adm-topic,.adm-rule{border:1px solid var(--border,#e4e4e7);border-radius:8px;padding:10px 12px}
.adm-source-head{display:flex;justify-content:space-between;gap:8px;align-items:flex-start}
.adm-source-head>div{min-width:0}
.adm-ellipsis{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:60ch}
.adm-kind{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted,#71717a)}
.adm-badge{font-size:.75rem;padding:2px 8px;border-radius:999px;background:var(--surface-2,#f4f4f5);white-space:nowrap}
.adm-running{background:#dbeafe;color:#1e40af}.adm-done{background:#dcfce7;color:#166534}.adm-failed{background:#fee2e2;color:#991b1b}.adm-idle{background:var(--surface-2,#f4f4f5)}
.adm progress{width:100%;margin:8px 0}
.adm-errors{margin-top:6px;font-size:.85rem}.adm-errors ul{max-height:200px;overflow:auto}
.adm-snippet p{margin:4px 0;white-space:pre-wrap}
.adm-notice{font-size:.9rem;margin-top:8px}.adm-notice:empty{display:none}
.adm-ok{color:var(--ok,#166534)}.adm-err{color:var(--danger,#b91c1c)}
.adm-empty{color:var(--muted,#71717a)}
.adm-save{display:flex;gap:12px;align-items:center;margin:8px 0 16px}
.adm-days{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:6px 16px;margin:8px 0}
.adm-day{display:grid;grid-template-columns:90px 1fr;align-items:center;gap:8px}
.adm-code{background:var(--surface-2,#f4f4f5);padding:10px;border-radius:6px;overflow:auto;white-space:pre-wrap;word-break:break-all}
.adm-preview{min-height:330px;position:relative;background:repeating-linear-gradient(45deg,transparent 0 10px,rgba(127,127,127,.06) 10px 20px);border-radius:8px}
.adm-pv{position:absolute;bottom:12px;display:flex;flex-direction:column;gap:10px}
.adm-pv-right{right:12px;align-items:flex-end}.adm-pv-left{left:12px;align-items:flex-start}
.adm-pv-panel{width:260px;background:#fff;color:#18181b;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.18);overflow:hidden}
.adm-pv-head{color:#fff;padding:10px 12px;display:flex;align-items:center;gap:8px}
.adm-avatar{width:28px;height:28px;border-radius:50%;display:inline-flex;align-items:center;justify-content:center;font-size:.75rem;color:#fff;border:2px solid rgba(255,255,255,.6);object-fit:cover}
.adm-pv-msg{margin:10px 12px;padding:8px 10px;background:#f4f4f5;border-radius:10px;font-size:.9rem}
.adm-pv-talk{margin:0 12px 12px;padding:6px;border:1px solid;border-radius:8px;text-align:center;font-size:.85rem}
.adm-pv-bubble{width:48px;height:48px;border-radius:50%;display:flex;align-items:center;justify-content:center;font-size:1.3rem;box-shadow:0 4px 14px rgba(0,0,0,.2)}
`));
}
