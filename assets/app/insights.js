// Insights: the gaps report, metrics with charts and CSV, and the "save as snippet" dialog the
// inbox opens from a conversation. Loaded lazily by the app shell at #/insights/<section>.
// Charts are plain SVG built with createElementNS; every text goes through textContent.

import { api } from './api.js';
import { el, injectStyle as injectAdminStyle } from './admin.js';

const SVG = 'http://www.w3.org/2000/svg';

async function call(method, path, body) {
  return api(method, '/api' + path, body);
}

function errorText(e) {
  return (e && (e.message || (e.body && e.body.message))) || String(e);
}

function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) n.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return n;
}

function fmtSecs(s) {
  if (s === null || s === undefined) return '—';
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

const pct = (x) => `${Math.round(x * 100)}%`;

const LABELS = {
  unsure: 'AI unsure', human_request: 'Asked for a person', sensitive: 'Sensitive topic', frustration: 'Frustration',
  rule: 'Rule', button: '“Talk to the team” button', unhelpful: 'Rated not helpful', handoff: 'Handed off',
};
const label = (k) => LABELS[k] || (k.startsWith('handoff:') ? `Handed off (${LABELS[k.slice(8)] || k.slice(8)})` : k.replaceAll('_', ' '));

// ---- entry point ----------------------------------------------------------------------------

export function mountInsights(root, subpath) {
  injectStyle();
  const section = subpath === 'metrics' ? 'metrics' : 'gaps';
  root.replaceChildren();
  const nav = el('nav', { class: 'adm-tabs', 'aria-label': 'Insights sections' },
    el('a', { href: '#/insights/gaps', class: section === 'gaps' ? 'active' : '' }, 'Gaps'),
    el('a', { href: '#/insights/metrics', class: section === 'metrics' ? 'active' : '' }, 'Metrics'));
  const body = el('div', { class: 'adm-body' });
  root.append(el('div', { class: 'adm ins' }, el('h1', {}, 'Insights'), nav, body));
  (section === 'gaps' ? gaps(body) : metrics(body)).catch((e) => body.append(el('p', { class: 'adm-notice adm-err' }, errorText(e))));
}

// ---- gaps -----------------------------------------------------------------------------------

async function gaps(body) {
  const status = el('select', { 'aria-label': 'Show' }, el('option', { value: 'open' }, 'Open gaps'), el('option', { value: 'all' }, 'All, also dismissed and resolved'));
  const period = el('select', { 'aria-label': 'Trend period' }, [7, 30, 90].map((d) => el('option', { value: d, selected: d === 30 }, `Trend: last ${d} days`)));
  const list = el('div', { class: 'adm-list' });
  body.append(
    el('p', { class: 'adm-hint' }, 'Questions Baton could not answer well (unsure, handed off, or rated not helpful), grouped by meaning across languages. Sorted by impact: each question counts 1 today and half as much every two weeks.'),
    el('div', { class: 'adm-row ins-controls' }, status, period),
    list);
  async function load() {
    list.replaceChildren(el('p', { class: 'adm-hint' }, 'Grouping questions…'));
    try {
      const groups = await call('GET', `/insights/gaps?status=${status.value}&period_days=${period.value}`);
      list.replaceChildren(...(groups.length ? groups.map((g) => gapCard(g, load)) : [el('p', { class: 'adm-empty' }, 'No gaps: every question was answered confidently. 🎉')]));
    } catch (e) { list.replaceChildren(el('p', { class: 'adm-notice adm-err' }, errorText(e))); }
  }
  status.addEventListener('change', load);
  period.addEventListener('change', load);
  await load();
}

function trend(g) {
  if (!g.previous && !g.current) return null;
  const d = g.current - g.previous;
  const cls = d > 0 ? 'up' : d < 0 ? 'down' : 'flat';
  const arrow = d > 0 ? '▲' : d < 0 ? '▼' : '■';
  return el('span', { class: `ins-trend ins-${cls}`, title: `${g.current} this period, ${g.previous} the period before` }, `${arrow} ${g.current} vs ${g.previous}`);
}

function sourceList(title, items) {
  if (!items.length) return null;
  return el('div', { class: 'ins-sources' }, el('span', { class: 'adm-label' }, title),
    el('ul', {}, items.map((s) => el('li', {}, s.url && /^https?:/.test(s.url) ? el('a', { href: s.url, target: '_blank', rel: 'noopener' }, s.title || s.url) : el('span', {}, s.title || s.document)))));
}

function gapCard(g, reload) {
  const setStatus = (st) => async () => {
    try { await call('POST', `/insights/gaps/${encodeURIComponent(g.id)}/status`, { status: st }); reload(); } catch (e) { alert(errorText(e)); }
  };
  const actions = el('div', { class: 'adm-actions' },
    el('button', { type: 'button', class: 'primary', onclick: () => openSnippetDialog(g.examples[0]?.conversation || null, g.representative, '', reload) }, 'Write the answer'),
    g.status === 'open' ? el('button', { type: 'button', onclick: setStatus('resolved') }, 'Mark resolved') : el('button', { type: 'button', onclick: setStatus('open') }, 'Reopen'),
    g.status === 'open' ? el('button', { type: 'button', onclick: setStatus('dismissed') }, 'Dismiss') : null);
  return el('article', { class: 'adm-card ins-gap' },
    el('div', { class: 'adm-source-head' },
      el('h2', {}, `“${g.representative}”`),
      el('span', { class: 'ins-count', title: 'Questions in this group' }, String(g.count))),
    el('div', { class: 'ins-meta' },
      trend(g),
      g.status !== 'open' ? el('span', { class: `adm-badge ins-st-${g.status}` }, g.status + (g.new_since_status ? ` · ${g.new_since_status} new since` : '')) : null,
      g.languages.map((l) => el('span', { class: 'adm-badge' }, l === '?' ? 'language ?' : l.toUpperCase())),
      g.reasons.map((r) => el('span', { class: 'adm-badge ins-reason' }, `${label(r.key)} ×${r.count}`))),
    el('div', { class: 'ins-cols' },
      el('div', {}, el('span', { class: 'adm-label' }, 'Asked as'),
        el('ul', { class: 'ins-examples' }, g.examples.map((x) => el('li', {}, el('a', { href: x.link }, x.text), el('span', { class: 'adm-hint' }, ` · ${new Date(x.at).toLocaleDateString()}`))))),
      el('div', {}, sourceList('The AI tried', g.tried_sources), sourceList('Closest pages — improve these', g.closest),
        !g.tried_sources.length && !g.closest.length ? el('p', { class: 'adm-hint' }, 'Nothing in the knowledge base comes close: write a page or a snippet.') : null)),
    actions);
}

// ---- the snippet dialog ---------------------------------------------------------------------

/// Opens a dialog to save a question and an answer as a Q&A snippet (editable first).
/// The inbox calls it from a conversation; `conversationId` may be null.
export function openSnippetDialog(conversationId, question, answer, onSaved) {
  injectStyle();
  const q = el('textarea', { rows: 3, value: question || '', 'aria-label': 'Question' });
  const a = el('textarea', { rows: 6, value: answer || '', 'aria-label': 'Answer' });
  const msg = el('p', { class: 'adm-notice', role: 'status' });
  const save = el('button', { type: 'submit', class: 'primary' }, 'Save to knowledge');
  const dialog = el('dialog', { class: 'adm ins-dialog', 'aria-label': 'Save as a Q&A snippet' });
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.append(el('form', { method: 'dialog', onsubmit: async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    try {
      const r = await call('POST', '/insights/snippets', { conversation: conversationId || null, question: q.value, answer: a.value });
      msg.className = 'adm-notice adm-ok';
      msg.textContent = r.covered_gap ? 'Saved. Baton answers this from now on, and the gap is marked covered.' : 'Saved. Baton answers this from now on.';
      if (onSaved) onSaved(r);
      setTimeout(close, 1200);
    } catch (e) {
      msg.className = 'adm-notice adm-err';
      msg.textContent = errorText(e);
      save.disabled = false;
    }
  } },
  el('h2', {}, 'Save as a Q&A snippet'),
  el('p', { class: 'adm-hint' }, 'Edit the question and the answer so they read well on their own; Baton will cite this snippet.'),
  el('label', { class: 'adm-field' }, el('span', { class: 'adm-label' }, 'Question'), q),
  el('label', { class: 'adm-field' }, el('span', { class: 'adm-label' }, 'Answer'), a),
  msg,
  el('div', { class: 'adm-actions' }, save, el('button', { type: 'button', onclick: close }, 'Cancel'))));
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  (question ? a : q).focus();
  return dialog;
}

// ---- metrics --------------------------------------------------------------------------------

async function metrics(body) {
  const today = new Date().toISOString().slice(0, 10);
  const ago = (d) => new Date(Date.now() - d * 86400000).toISOString().slice(0, 10);
  const from = el('input', { type: 'date', value: ago(29), 'aria-label': 'From' });
  const to = el('input', { type: 'date', value: today, 'aria-label': 'To' });
  const csv = el('a', { class: 'ins-csv', download: '' }, 'Export CSV');
  const out = el('div');
  const preset = (d) => el('button', { type: 'button', onclick: () => { from.value = ago(d - 1); to.value = today; load(); } }, `${d} days`);
  body.append(el('div', { class: 'adm-row ins-controls' }, el('span', {}, 'From'), from, el('span', {}, 'to'), to, preset(7), preset(30), preset(90), csv), out);
  from.addEventListener('change', load);
  to.addEventListener('change', load);

  async function load() {
    const qs = new URLSearchParams({ from: from.value, to: to.value });
    csv.href = `/api/insights/metrics.csv?${qs}`;
    let m;
    try { m = await call('GET', `/insights/metrics?${qs}`); } catch (e) { out.replaceChildren(el('p', { class: 'adm-notice adm-err' }, errorText(e))); return; }
    const kpi = (title, value, sub) => el('div', { class: 'ins-kpi' }, el('span', { class: 'adm-hint' }, title), el('strong', {}, value), sub ? el('small', { class: 'adm-hint' }, sub) : null);
    const totalRatings = m.ratings.helpful + m.ratings.not_helpful;
    out.replaceChildren(
      el('div', { class: 'ins-kpis' },
        kpi('Conversations', String(m.conversations)),
        kpi('Resolved by the AI', pct(m.ai_resolved_share), `${m.ai_resolved} without handoff or bad rating`),
        kpi('Handed off', pct(m.handoff_rate), `${m.handed_off} conversations`),
        kpi('First human response', fmtSecs(m.first_response.median_secs), `median · p90 ${fmtSecs(m.first_response.p90_secs)}`),
        kpi('Time to resolution', fmtSecs(m.resolution.median_secs), `median · p90 ${fmtSecs(m.resolution.p90_secs)}`),
        kpi('CSAT', m.csat.average ? `${m.csat.average.toFixed(1)} / 5` : '—', m.csat.count ? `${m.csat.count} ratings · ${pct(m.csat.satisfied_share)} satisfied` : 'no ratings yet'),
        kpi('Answers rated helpful', totalRatings ? pct(m.ratings.helpful / totalRatings) : '—', `${m.ratings.helpful} helpful · ${m.ratings.not_helpful} not helpful · ${m.ratings.unrated} unrated`)),
      el('div', { class: 'adm-two' },
        el('section', { class: 'adm-card' }, el('h2', {}, 'Conversations'), barChart(m.series, m.bucket_secs), legend([['ins-c1', 'resolved by AI'], ['ins-c2', 'handed off'], ['ins-c3', 'other']])),
        el('section', { class: 'adm-card' }, el('h2', {}, 'Waiting for a human'), lineChart(m.series, m.bucket_secs))),
      el('div', { class: 'adm-two' },
        el('section', { class: 'adm-card' }, el('h2', {}, 'Handoffs by trigger'), hbars(m.handoffs_by_trigger.map((c) => [label(c.key), c.count]))),
        el('section', { class: 'adm-card' }, el('h2', {}, 'Top topics'), hbars(m.top_topics.map((c) => [label(c.key), c.count])))),
      el('div', { class: 'adm-two' },
        el('section', { class: 'adm-card' }, el('h2', {}, 'CSAT'), hbars(m.csat.distribution.map((n, i) => [`${'★'.repeat(i + 1)}`, n]).reverse())),
        el('section', { class: 'adm-card' }, el('h2', {}, 'Answer ratings'), hbars([['Helpful', m.ratings.helpful], ['Not helpful', m.ratings.not_helpful], ['Unrated', m.ratings.unrated]]))),
    );
  }
  await load();
}

function tickLabel(iso, bucketSecs) {
  const d = new Date(iso);
  if (bucketSecs < 86400) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

function legend(items) {
  return el('div', { class: 'ins-legend' }, items.map(([cls, text]) => el('span', {}, el('i', { class: cls }), text)));
}

function frame(n, max) {
  const W = 560, H = 200, L = 34, B = 24, T = 8;
  const step = (W - L - 8) / Math.max(n, 1);
  const y = (v) => H - B - ((H - B - T) * v) / Math.max(max, 1);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'ins-chart', role: 'img' });
  const top = Math.max(max, 1);
  for (const v of [0, Math.ceil(top / 2), top]) {
    root.append(svg('line', { x1: L, x2: W - 8, y1: y(v), y2: y(v), class: 'ins-grid' }), svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'ins-axis' }, String(v)));
  }
  return { root, W, H, L, B, step, y };
}

function xLabels(f, series, bucketSecs) {
  const every = Math.ceil(series.length / 8);
  series.forEach((p, i) => {
    if (i % every) return;
    f.root.append(svg('text', { x: f.L + f.step * (i + 0.5), y: f.H - 6, 'text-anchor': 'middle', class: 'ins-axis' }, tickLabel(p.start, bucketSecs)));
  });
}

function barChart(series, bucketSecs) {
  const max = Math.max(0, ...series.map((p) => p.conversations));
  const f = frame(series.length, max);
  f.root.setAttribute('aria-label', `Conversations per ${bucketSecs < 86400 ? 'hour' : bucketSecs < 604800 ? 'day' : 'week'}`);
  const w = Math.max(1, f.step * 0.7);
  series.forEach((p, i) => {
    const x = f.L + f.step * i + (f.step - w) / 2;
    let base = 0;
    for (const [v, cls] of [[p.ai_resolved, 'ins-c1'], [p.handed_off, 'ins-c2'], [p.conversations - p.ai_resolved - p.handed_off, 'ins-c3']]) {
      if (v <= 0) continue;
      f.root.append(svg('rect', { x, width: w, y: f.y(base + v), height: f.y(base) - f.y(base + v), class: cls },
        svg('title', {}, `${tickLabel(p.start, bucketSecs)}: ${v}`)));
      base += v;
    }
  });
  xLabels(f, series, bucketSecs);
  return f.root;
}

function lineChart(series, bucketSecs) {
  const max = Math.max(0, ...series.map((p) => p.queue));
  const f = frame(series.length, max);
  f.root.setAttribute('aria-label', 'Conversations waiting for a human');
  const pts = series.map((p, i) => `${f.L + f.step * (i + 0.5)},${f.y(p.queue)}`).join(' ');
  f.root.append(svg('polyline', { points: pts, class: 'ins-line' }));
  series.forEach((p, i) => f.root.append(svg('circle', { cx: f.L + f.step * (i + 0.5), cy: f.y(p.queue), r: 2.5, class: 'ins-dot' }, svg('title', {}, `${tickLabel(p.start, bucketSecs)}: ${p.queue} waiting`))));
  xLabels(f, series, bucketSecs);
  return f.root;
}

function hbars(items) {
  if (!items.length || items.every(([, n]) => !n)) return el('p', { class: 'adm-empty' }, 'Nothing in this period.');
  const max = Math.max(...items.map(([, n]) => n), 1);
  return el('div', { class: 'ins-hbars' }, items.map(([k, n]) => el('div', { class: 'ins-hbar' },
    el('span', { class: 'ins-hbar-label' }, k),
    el('span', { class: 'ins-hbar-track' }, el('span', { class: 'ins-hbar-fill', style: `width:${(100 * n) / max}%` })),
    el('span', { class: 'ins-hbar-n' }, String(n)))));
}

function injectStyle() {
  injectAdminStyle();
  if (document.getElementById('ins-style')) return;
  document.head.append(el('style', { id: 'ins-style' }, `
.ins-controls{margin-bottom:12px}
.ins-gap h2{font-size:1.05rem;margin:0}
.ins-count{font-size:1.3rem;font-weight:700;min-width:2ch;text-align:right}
.ins-meta{display:flex;gap:6px;flex-wrap:wrap;margin:8px 0}
.ins-trend{font-size:.8rem;padding:2px 8px;border-radius:999px;background:var(--surface-2,#f4f4f5)}
.ins-up{color:#b91c1c}.ins-down{color:#166534}
.ins-reason{background:#fef3c7;color:#92400e}
.ins-st-covered,.ins-st-resolved{background:#dcfce7;color:#166534}
.ins-cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px}
@media (max-width:800px){.ins-cols{grid-template-columns:1fr}}
.ins-examples,.ins-sources ul{margin:4px 0;padding-left:18px}
.ins-examples li,.ins-sources li{margin:2px 0;overflow-wrap:anywhere}
.ins-kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;margin-bottom:16px}
.ins-kpi{display:flex;flex-direction:column;gap:2px;border:1px solid var(--border,#e4e4e7);border-radius:10px;padding:12px;background:var(--surface,#fff)}
.ins-kpi strong{font-size:1.5rem}
.ins-chart{width:100%;height:auto;display:block}
.ins-grid{stroke:var(--border,#e4e4e7);stroke-width:1}
.ins-axis{fill:var(--muted,#71717a);font-size:11px}
.ins-c1{fill:#16a34a;background:#16a34a}.ins-c2{fill:#f59e0b;background:#f59e0b}.ins-c3{fill:#94a3b8;background:#94a3b8}
.ins-line{fill:none;stroke:var(--accent,#2563eb);stroke-width:2}.ins-dot{fill:var(--accent,#2563eb)}
.ins-legend{display:flex;gap:14px;font-size:.85rem;margin-top:6px;flex-wrap:wrap}
.ins-legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
.ins-hbars{display:flex;flex-direction:column;gap:6px}
.ins-hbar{display:grid;grid-template-columns:minmax(90px,40%) 1fr 3ch;gap:8px;align-items:center;font-size:.9rem}
.ins-hbar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ins-hbar-track{background:var(--surface-2,#f4f4f5);border-radius:4px;height:12px;overflow:hidden}
.ins-hbar-fill{display:block;height:100%;background:var(--accent,#2563eb)}
.ins-hbar-n{text-align:right}
.ins-csv{margin-left:auto}
.ins-dialog{border:1px solid var(--border,#d4d4d8);border-radius:12px;padding:18px 20px;width:min(560px,92vw);background:var(--surface,#fff);color:inherit}
.ins-dialog::backdrop{background:rgba(0,0,0,.35)}
`));
}
