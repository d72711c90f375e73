// The team inbox: conversation list, the thread with its summary and composer, and the
// context panel (visitor, handoff, cited sources, suggested reply). Live through
// /api/inbox/stream; presence heartbeat while open. Every piece of visitor or document text
// goes through h() (textContent); links only when they are http(s).

import { api, h, toast, ago, fmtTime, httpUrl } from './api.js';

const FILTERS = [
  ['waiting', 'Waiting'],
  ['mine', 'Mine'],
  ['unassigned', 'Unassigned'],
  ['ai', 'AI'],
  ['resolved', 'Resolved'],
];
const TRIGGERS = {
  unsure: 'AI was unsure',
  human_request: 'Asked for a person',
  sensitive: 'Sensitive topic',
  frustration: 'Visitor frustrated',
  rule: 'Admin rule',
  button: '“Talk to the team” button',
};
const STATES = { bot: 'AI', waiting_for_human: 'Waiting', with_agent: 'With agent', resolved: 'Resolved' };
const HEARTBEAT_MS = 20000;

export function triggerLabel(t) {
  return TRIGGERS[t] || t || '';
}

function pref(key, fallback) {
  try { return JSON.parse(localStorage.getItem('baton-inbox-' + key)) ?? fallback; } catch { return fallback; }
}
function setPref(key, v) {
  try { localStorage.setItem('baton-inbox-' + key, JSON.stringify(v)); } catch { /* private mode */ }
}

function beep() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    const ctx = new Ctx();
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.type = 'sine';
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.0001, ctx.currentTime);
    g.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
    o.connect(g).connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.4);
    o.onended = () => ctx.close();
  } catch { /* no audio */ }
}

/** The marker [n] linking to citation n (like the widget), or null when there is none. */
function citeMark(n, citations) {
  const c = (citations || []).find((x) => String(x.n) === String(n));
  if (!c) return null;
  const url = httpUrl(c.url);
  return url
    ? h('a', { class: 'cite', href: url, target: '_blank', rel: 'noopener noreferrer', title: c.title }, `[${n}]`)
    : h('span', { class: 'cite', title: c.title }, `[${n}]`);
}

/** The inline format of answer blocks: **bold**, `code`, [n] citation markers and bare
 *  http(s) links. Everything else (any <, &) stays literal text. */
export function inlineText(text, citations) {
  const s = String(text ?? '');
  const re = /\[(\d{1,2})\]|(https?:\/\/[^\s<>()`]+[^\s<>().,;:!?'"`])|\*\*([^*\n]+)\*\*|`([^`\n]+)`/g;
  const out = [];
  let last = 0;
  for (let m; (m = re.exec(s));) {
    if (m.index > last) out.push(s.slice(last, m.index));
    if (m[1]) out.push(citeMark(m[1], citations) || m[0]);
    else if (m[2]) {
      const url = httpUrl(m[2]);
      out.push(url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, m[2]) : m[2]);
    } else if (m[3]) out.push(h('strong', {}, m[3]));
    else out.push(h('code', {}, m[4]));
    last = re.lastIndex;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

/** An AI answer's `blocks` (paragraph, steps, list, code, table, note, intro) as DOM nodes.
 *  After the last block of a run quoting the same source comes its marker [n], unless that
 *  block's text already has it. */
export function answerBlocks(blocks, citations) {
  const out = [];
  blocks.forEach((b, i) => {
    b = b || {};
    const items = [].concat(b.items ?? []).filter((x) => x !== null && x !== undefined && x !== '');
    const rows = [].concat(b.rows ?? []).map((r) => [].concat(r ?? []));
    const text = b.text == null ? '' : String(b.text);
    if (!text && !items.length && !rows.length) return;
    let node;
    let tail = null;
    if (b.kind === 'steps' || b.kind === 'list') {
      node = h(b.kind === 'list' ? 'ul' : 'ol', { start: b.kind === 'steps' && b.start != null ? b.start : null },
        items.map((x) => h('li', {}, inlineText(x, citations))));
      tail = node.lastChild;
    } else if (b.kind === 'code') {
      node = h('pre', {}, h('code', {}, text));
    } else if (b.kind === 'table') {
      const [head, ...body] = rows;
      node = h('div', { class: 'tbl' }, h('table', {},
        h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, inlineText(c, citations))))),
        h('tbody', {}, body.map((r) => h('tr', {}, r.map((c) => h('td', {}, inlineText(c, citations))))))));
    } else {
      node = tail = h('p', { class: b.kind === 'note' || b.kind === 'intro' ? b.kind : null }, inlineText(text, citations));
    }
    out.push(node);
    const n = b.cite;
    const next = blocks[i + 1];
    const own = [text, ...items, ...rows.flat()].join(' ');
    if (n > 0 && !(next && next.cite === n) && !own.includes(`[${n}]`)) {
      const mark = citeMark(n, citations);
      if (mark) {
        if (tail) tail.append(mark);
        else out.push(h('div', { class: 'src' }, mark));
      }
    }
  });
  return out;
}

export async function mountInbox(root, sub, session) {
  const me = session.me.user;
  const st = {
    filter: pref('filter', 'waiting'),
    q: '',
    items: [],
    counts: {},
    openId: sub || null,
    view: null,
    mode: 'reply',
    viewers: new Map(),
    typing: new Map(),
    users: [],
    teams: [],
    sound: pref('sound', false),
    desktop: pref('desktop', false) && 'Notification' in window && Notification.permission === 'granted',
    suggestion: null,
  };
  if (!FILTERS.some(([k]) => k === st.filter)) st.filter = 'waiting';
  const timers = [];
  let es = null;
  let alive = true;

  // ---- skeleton ----
  const filtersBox = h('div', { class: 'ib-filters', role: 'tablist', 'aria-label': 'Filters' });
  const search = h('input', { type: 'search', placeholder: 'Search messages', 'aria-label': 'Search conversations' });
  const alerts = h('details', { class: 'usermenu' },
    h('summary', { class: 'small muted', 'aria-label': 'Alerts' }, 'Alerts'),
    h('div', { class: 'menu' },
      h('label', { class: 'row' }, h('input', { type: 'checkbox', checked: st.sound, onchange: (e) => { st.sound = e.target.checked; setPref('sound', st.sound); if (st.sound) beep(); } }), 'Sound on new handoffs'),
      h('label', { class: 'row' }, h('input', { type: 'checkbox', checked: st.desktop, onchange: async (e) => {
        if (e.target.checked) {
          if (!('Notification' in window)) { toast('This browser has no desktop notifications.', 'error'); e.target.checked = false; return; }
          const p = await Notification.requestPermission();
          st.desktop = p === 'granted';
          e.target.checked = st.desktop;
          if (!st.desktop) toast('Notifications are blocked for this site in the browser settings.', 'error');
        } else st.desktop = false;
        setPref('desktop', st.desktop);
      } }), 'Desktop notifications')));
  const itemsBox = h('div', { class: 'ib-items', role: 'listbox', 'aria-label': 'Conversations' });
  const list = h('aside', { class: 'ib-list', 'aria-label': 'Conversation list' },
    h('div', { class: 'ib-listhead' }, filtersBox, h('div', { class: 'ib-tools' }, search, alerts)), itemsBox);

  const thread = h('section', { class: 'ib-thread', 'aria-label': 'Conversation' });
  const side = h('aside', { class: 'ib-side', 'aria-label': 'Visitor context' });
  const shell = h('div', { class: 'inbox' }, list, thread, side);
  root.append(shell);

  // ---- list ----
  function drawFilters() {
    filtersBox.replaceChildren(...FILTERS.map(([k, label]) => h('button', {
      type: 'button', role: 'tab', class: st.filter === k ? 'active' : '', 'aria-selected': st.filter === k ? 'true' : 'false',
      onclick: () => { st.filter = k; setPref('filter', k); loadList(); },
    }, label, h('span', { class: 'count' }, String(st.counts[k] ?? '')))));
  }

  function drawList() {
    drawFilters();
    if (!st.items.length) {
      itemsBox.replaceChildren(h('p', { class: 'ib-empty' }, st.q ? 'No conversation matches the search.'
        : st.filter === 'waiting' ? 'Nobody is waiting. The AI is handling everything.' : 'Nothing here.'));
      return;
    }
    const now = Date.now();
    itemsBox.replaceChildren(...st.items.map((c) => {
      const waiting = c.state === 'waiting_for_human' && c.waiting_since;
      const long = waiting && now - new Date(c.waiting_since).getTime() > 5 * 60000;
      return h('a', {
        class: 'ib-item' + (c.id === st.openId ? ' active' : ''), href: `#/inbox/${encodeURIComponent(c.id)}`,
        role: 'option', 'aria-selected': c.id === st.openId ? 'true' : 'false', dataset: { id: c.id },
      },
      h('div', { class: 'top' },
        h('span', { class: 'who' }, c.visitor),
        h('span', { class: 'wait' + (long ? ' long' : ''), title: waiting ? 'Waiting for a person' : 'Last activity' },
          waiting ? `waiting ${ago(c.waiting_since, now)}` : ago(c.updated_at, now))),
      h('div', { class: 'pv' }, c.preview || '(no message yet)'),
      h('div', { class: 'tags' },
        h('span', { class: `tag ${c.state}` }, STATES[c.state] || c.state),
        c.trigger ? h('span', { class: 'tag' }, triggerLabel(c.trigger)) : null,
        c.assignee_name ? h('span', { class: 'tag' }, c.assignee === me.id ? 'You' : c.assignee_name) : null,
        c.team ? h('span', { class: 'tag' }, c.team) : null,
        c.locale ? h('span', { class: 'tag' }, c.locale) : null));
    }));
  }

  let listSeq = 0;
  async function loadList() {
    const seq = ++listSeq;
    const qs = new URLSearchParams({ filter: st.filter });
    if (st.q) qs.set('q', st.q);
    try {
      const page = await api('GET', `/api/inbox/conversations?${qs}`, null, { quiet: true });
      if (seq !== listSeq || !alive) return;
      st.items = page.items;
      st.counts = page.counts;
      drawList();
      document.title = page.counts.waiting ? `(${page.counts.waiting}) Inbox · Baton` : 'Inbox · Baton';
    } catch (e) {
      if (seq === listSeq) itemsBox.replaceChildren(h('p', { class: 'ib-empty error' }, e.message));
    }
  }
  let listTimer = null;
  function reloadListSoon() {
    clearTimeout(listTimer);
    listTimer = setTimeout(loadList, 300);
  }
  let searchTimer = null;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { st.q = search.value.trim(); loadList(); }, 250);
  });

  // ---- thread ----
  const head = h('div', { class: 'ib-threadhead' });
  const presenceLine = h('div', { class: 'ib-presence', role: 'status', 'aria-live': 'polite' });
  const summaryBox = h('div');
  const msgs = h('div', { class: 'ib-msgs', 'aria-live': 'polite' });
  const typingLine = h('div', { class: 'typing', 'aria-live': 'polite' });
  const textarea = h('textarea', { rows: 3, 'aria-label': 'Reply', placeholder: 'Reply to the visitor… (Ctrl+Enter to send)' });
  const banner = h('div', { class: 'notice small', hidden: true });
  const sendBtn = h('button', { type: 'button', class: 'primary', onclick: () => send() }, 'Send');
  const modeReply = h('button', { type: 'button', onclick: () => setMode('reply') }, 'Reply');
  const modeNote = h('button', { type: 'button', onclick: () => setMode('note') }, 'Private note');
  const compose = h('div', { class: 'ib-compose' },
    h('div', { class: 'modes' }, modeReply, modeNote), banner, textarea,
    h('div', { class: 'send' }, h('span', { class: 'hint' }, 'Ctrl+Enter sends · ? shortcuts'), sendBtn));

  function setMode(m) {
    st.mode = m;
    compose.classList.toggle('note', m === 'note');
    modeReply.classList.toggle('active', m === 'reply');
    modeNote.classList.toggle('active', m === 'note');
    textarea.placeholder = m === 'note' ? 'Private note for the team; the visitor never sees it' : 'Reply to the visitor… (Ctrl+Enter to send)';
    drawComposerState();
  }

  function heldByOther() {
    const c = st.view && st.view.conversation;
    return !!(c && c.assignee && c.assignee !== me.id);
  }

  function drawComposerState() {
    const c = st.view && st.view.conversation;
    if (!c) return;
    const resolved = c.state === 'resolved';
    banner.hidden = true;
    sendBtn.textContent = st.mode === 'note' ? 'Add note' : 'Send';
    if (st.mode === 'reply' && resolved) {
      banner.hidden = false;
      banner.replaceChildren('This conversation is resolved. Reopen it to reply.');
    } else if (st.mode === 'reply' && heldByOther()) {
      banner.hidden = false;
      banner.replaceChildren(`${c.assignee_name || 'Another agent'} is handling this conversation. Sending takes it over.`);
      sendBtn.textContent = 'Take over and send';
    }
    sendBtn.disabled = st.mode === 'reply' && resolved;
  }

  function drawHead() {
    const v = st.view;
    const c = v.conversation;
    const assign = h('select', { 'aria-label': 'Assign to', onchange: () => doAssign(assign.value) },
      h('option', { value: '' }, c.assignee ? `Assigned: ${c.assignee === me.id ? 'you' : c.assignee_name}` : 'Unassigned'),
      c.assignee !== me.id ? h('option', { value: 'me' }, 'Assign to me') : null,
      st.users.filter((u) => u.id !== me.id && u.id !== c.assignee && !u.disabled).map((u) => h('option', { value: 'u:' + u.id }, `Assign to ${u.name}`)),
      st.teams.map((t) => h('option', { value: 't:' + t }, `Team: ${t}`)),
      c.assignee ? h('option', { value: 'none' }, 'Unassign') : null);
    head.replaceChildren(...[
      h('a', { class: 'ib-back', href: '#/inbox', 'aria-label': 'Back to the list' }, '←'),
      h('h2', {}, v.visitor),
      h('span', { class: `tag ${c.state}` }, STATES[c.state] || c.state),
      c.team ? h('span', { class: 'tag' }, `team ${c.team}`) : null,
      h('div', { class: 'actions' },
        assign,
        c.state === 'resolved'
          ? h('button', { type: 'button', onclick: () => act('reopen') }, 'Reopen')
          : [
            c.state !== 'bot' ? h('button', { type: 'button', title: 'The AI answers again', onclick: () => act('hand-back') }, 'Hand back to AI') : null,
            h('button', { type: 'button', class: 'primary', title: 'Resolve (e)', onclick: () => act('resolve') }, 'Resolve'),
          ],
        h('button', { type: 'button', class: 'ib-sidetoggle', 'aria-label': 'Show visitor context', onclick: () => shell.classList.toggle('show-side') }, 'Context')),
    ].filter(Boolean));
  }

  function drawPresence() {
    const names = [...st.viewers.values()];
    const typers = [...st.typing.entries()].filter(([k]) => k !== 'visitor' && k !== me.id).map(([, v]) => v);
    const parts = [];
    if (names.length) parts.push(`${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} viewing this conversation`);
    if (typers.length) parts.push(`${typers.join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing`);
    presenceLine.textContent = parts.join(' · ');
    typingLine.textContent = st.typing.has('visitor') ? 'The visitor is typing…' : '';
  }

  function drawSummary() {
    const s = st.view.summary;
    const rows = [];
    if (s.asked) rows.push(['Asked', s.asked]);
    if (s.answered) rows.push(['AI answered', s.answered + (s.confidence != null ? ` (confidence ${Math.round(s.confidence * 100)}%)` : '')]);
    if (s.trigger) rows.push(['Handed off', `${triggerLabel(s.trigger)}: ${s.handoff}`]);
    summaryBox.replaceChildren(rows.length ? h('div', { class: 'ib-summary', 'aria-label': 'Summary' },
      h('dl', {}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))) : '');
  }

  function citeList(citations) {
    return h('ol', { class: 'cites' }, citations.map((c) => {
      const url = httpUrl(c.url);
      const label = c.section && c.section !== c.title ? `${c.title} › ${c.section}` : c.title;
      return h('li', { value: c.n }, url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label) : label);
    }));
  }

  function messageNode(m) {
    const time = h('time', { datetime: m.at, title: fmtTime(m.at) }, new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    const kind = m.author.kind;
    const body = m.body;
    if (body.type === 'event') {
      const isHandoff = body.event === 'handoff';
      return h('div', { class: 'event' + (isHandoff ? ' handoff' : ''), dataset: { seq: m.seq, event: body.event } }, body.text, ' · ', time);
    }
    if (body.type === 'note') {
      return h('div', { class: 'msg note', dataset: { seq: m.seq } },
        h('div', { class: 'meta' }, h('strong', {}, 'Private note'), kind === 'agent' ? m.author.name : 'Baton', time),
        h('div', { class: 'text' }, body.text));
    }
    if (body.type === 'answer') {
      const a = body.answer;
      const conf = Math.round(a.confidence * 100);
      return h('div', { class: 'msg ai', dataset: { seq: m.seq } },
        h('div', { class: 'meta' }, h('strong', {}, 'AI'),
          h('span', { class: 'conf' + (a.unsure ? ' low' : '') }, `confidence ${conf}%${a.unsure ? ' · unsure' : ''}`),
          m.rating ? h('span', {}, m.rating === 'helpful' ? 'rated helpful' : 'rated not helpful') : null, time),
        Array.isArray(a.blocks) && a.blocks.length
          ? h('div', { class: 'text blocks' }, answerBlocks(a.blocks, a.citations))
          : h('div', { class: 'text' }, a.text),
        a.citations.length ? citeList(a.citations) : null);
    }
    const cls = kind === 'visitor' ? 'visitor' : kind === 'agent' ? 'agent' : 'ai';
    const who = kind === 'visitor' ? st.view.visitor : kind === 'agent' ? (m.author.id === me.id ? 'You' : m.author.name) : 'Baton';
    const pageUrl = m.page && httpUrl(m.page.url);
    // One click from an agent's answer to a Q&A snippet the AI answers with next time.
    const learn = kind === 'agent'
      ? h('button', { type: 'button', class: 'learn', title: 'Save this reply and the question before it as knowledge, so the AI answers it next time', onclick: () => saveAsKnowledge(m) }, 'Save as knowledge')
      : null;
    return h('div', { class: `msg ${cls}`, dataset: { seq: m.seq } },
      h('div', { class: 'meta' }, h('strong', {}, who), time,
        pageUrl ? h('a', { href: pageUrl, target: '_blank', rel: 'noopener noreferrer', title: m.page.url }, m.page.title || 'page') : null, learn),
      h('div', { class: 'text' }, body.text));
  }

  async function saveAsKnowledge(m) {
    const asked = st.view.messages.filter((x) => x.seq < m.seq && x.author.kind === 'visitor' && x.body.type === 'text');
    const question = asked.length ? asked[asked.length - 1].body.text : '';
    const { openSnippetDialog } = await import('./insights.js');
    openSnippetDialog(st.openId, question, m.body.text, () => toast('Saved to the knowledge base. The AI answers this from now on.'));
  }

  function lastSeq() {
    const ms = st.view.messages;
    return ms.length ? ms[ms.length - 1].seq : 0;
  }

  function appendMessage(m) {
    if (!st.view) return;
    if (m.seq <= lastSeq()) {
      // A rating or edit of an earlier message: replace it in place.
      const i = st.view.messages.findIndex((x) => x.seq === m.seq);
      if (i >= 0) {
        st.view.messages[i] = m;
        const old = msgs.querySelector(`[data-seq="${m.seq}"]`);
        if (old) old.replaceWith(messageNode(m));
      }
      return;
    }
    if (m.seq > lastSeq() + 1) { openConversation(st.openId, true); return; }
    const nearBottom = msgs.scrollHeight - msgs.scrollTop - msgs.clientHeight < 120;
    st.view.messages.push(m);
    msgs.append(messageNode(m));
    if (nearBottom || (m.author.kind === 'agent' && m.author.id === me.id)) msgs.scrollTop = msgs.scrollHeight;
    if (m.author.kind === 'visitor') st.typing.delete('visitor');
    drawPresence();
  }

  function drawThread() {
    const v = st.view;
    drawHead();
    drawSummary();
    msgs.replaceChildren(...v.messages.map(messageNode));
    st.viewers = new Map(v.viewers.map((x) => [x.agent, x.name]));
    drawPresence();
    thread.replaceChildren(head, presenceLine, summaryBox, msgs, typingLine, compose);
    setMode(st.mode);
    msgs.scrollTop = msgs.scrollHeight;
  }

  // ---- context panel ----
  function dl(rows) {
    const r = rows.filter(([, v]) => v !== '' && v !== null && v !== undefined);
    return r.length ? h('dl', {}, r.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : h('p', { class: 'muted small' }, 'Nothing known.');
  }

  function drawSide() {
    const v = st.view;
    const c = v.conversation;
    const x = c.context;
    const attrs = Object.entries(x.attributes || {}).map(([k, val]) => [k, typeof val === 'string' ? val : JSON.stringify(val)]);
    const email = x.email || (c.follow_up && c.follow_up.email) || '';
    const sections = [
      h('section', {}, h('h3', {}, 'Visitor'), dl([
        ['Name', x.name], ['Email', email], ['Identified', x.identified ? 'yes (verified)' : 'no'], ['User id', x.user_id],
        ['Language', x.locale], ['Time zone', x.timezone], ['Came from', x.referrer],
        ['Follow-up', c.follow_up ? `by email to ${c.follow_up.email}` : ''],
        ['Started', fmtTime(c.created_at)], ...attrs])),
    ];
    if (c.handoff) {
      sections.push(h('section', {}, h('h3', {}, 'Handoff'), dl([
        ['Trigger', triggerLabel(c.handoff.trigger)], ['Topic', c.handoff.topic], ['Reason', c.handoff.reason],
        ['Team', c.handoff.team], ['At', fmtTime(c.handoff.at)]])));
    }
    const pages = (x.pages || []).slice(-10).reverse();
    sections.push(h('section', {}, h('h3', {}, 'Pages visited'), pages.length
      ? h('ol', {}, pages.map((p) => {
        const url = httpUrl(p.url);
        return h('li', {}, url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: p.url }, p.title || p.url) : (p.title || p.url));
      }))
      : h('p', { class: 'muted small' }, 'None recorded.')));
    sections.push(h('section', { class: 'sources-box' }, h('h3', {}, 'Sources the AI cited'), v.sources.length
      ? v.sources.map(sourceNode)
      : h('p', { class: 'muted small' }, 'No sources cited yet.')));
    const suggestBox = h('div');
    const suggestBtn = h('button', { type: 'button', onclick: async () => {
      suggestBtn.disabled = true;
      suggestBox.replaceChildren(h('p', { class: 'muted small' }, 'Looking in the knowledge base…'));
      try {
        const s = await api('GET', `/api/inbox/conversations/${encodeURIComponent(c.id)}/suggestion`);
        drawSuggestion(suggestBox, s);
      } catch (e) {
        suggestBox.replaceChildren(h('p', { class: 'error small' }, e.message));
      } finally {
        suggestBtn.disabled = false;
      }
    } }, 'Suggest a reply');
    sections.push(h('section', {}, h('h3', {}, 'Agent assist'), suggestBtn, suggestBox));
    if (v.history.length) {
      sections.push(h('section', {}, h('h3', {}, 'Earlier conversations'), h('ul', {}, v.history.slice(0, 8).map((o) =>
        h('li', {}, h('a', { href: `#/inbox/${encodeURIComponent(o.id)}` }, o.preview || '(empty)'), ' ', h('span', { class: 'muted small' }, fmtTime(o.created_at)))))));
    }
    side.replaceChildren(...sections);
  }

  function sourceNode(c) {
    const url = httpUrl(c.url);
    const title = c.section && c.section !== c.title ? `${c.title} › ${c.section}` : c.title;
    return h('div', { class: 'source' },
      url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, title) : h('strong', {}, title),
      c.path && !url ? h('div', { class: 'muted small' }, c.path) : null,
      c.snippet ? h('div', { class: 'snip' }, c.snippet) : null);
  }

  function drawSuggestion(box, s) {
    if (!s.text) {
      box.replaceChildren(h('p', { class: 'muted small' }, 'The knowledge base has nothing that fits. Answer in your own words, then consider adding a snippet.'));
      return;
    }
    box.replaceChildren(h('div', { class: 'suggest' },
      h('p', {}, s.text),
      h('div', { class: 'muted small' }, `confidence ${Math.round(s.confidence * 100)}%${s.unsure ? ' · unsure, check before sending' : ''}`),
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: () => {
        setMode('reply');
        textarea.value = textarea.value ? `${textarea.value}\n\n${s.text}` : s.text;
        textarea.focus();
      } }, 'Use as draft')),
      s.citations.length ? [h('div', { class: 'muted small' }, 'From:'), ...s.citations.map(sourceNode)] : null));
  }

  // ---- open a conversation ----
  let openSeq = 0;
  async function openConversation(id, keepScroll) {
    const seq = ++openSeq;
    const previous = st.view && st.view.conversation.id;
    if (previous && previous !== id) {
      api('POST', `/api/inbox/conversations/${encodeURIComponent(previous)}/viewing`, { on: false }, { quiet: true }).catch(() => {});
      stopTyping();
    }
    st.openId = id;
    shell.classList.toggle('has-open', !!id);
    shell.classList.remove('show-side');
    for (const el of itemsBox.querySelectorAll('.ib-item')) {
      const on = el.dataset.id === id;
      el.classList.toggle('active', on);
      el.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    if (!id) {
      st.view = null;
      thread.replaceChildren(h('div', { class: 'ib-blank' }, h('p', {}, 'Pick a conversation.'), h('p', { class: 'small' }, 'j / k to move, ? for shortcuts')));
      side.replaceChildren();
      return;
    }
    if (!keepScroll) thread.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
    try {
      const v = await api('GET', `/api/inbox/conversations/${encodeURIComponent(id)}`);
      if (seq !== openSeq || !alive) return;
      const draftFor = st.view && st.view.conversation.id;
      st.view = v;
      if (draftFor !== id) { textarea.value = ''; st.typing.clear(); }
      drawThread();
      drawSide();
      const others = await api('POST', `/api/inbox/conversations/${encodeURIComponent(id)}/viewing`, { on: true }, { quiet: true }).catch(() => null);
      if (others && seq === openSeq) {
        st.viewers = new Map(others.map((x) => [x.agent, x.name]));
        drawPresence();
      }
    } catch (e) {
      if (seq === openSeq) thread.replaceChildren(h('div', { class: 'ib-blank' }, h('p', { class: 'error' }, e.message)));
    }
  }

  function refreshConversation(conv) {
    if (!st.view || conv.id !== st.view.conversation.id) return;
    st.view.conversation = conv;
    drawHead();
    drawComposerState();
    drawSide();
  }

  // ---- actions ----
  async function act(what) {
    const c = st.view && st.view.conversation;
    if (!c) return;
    try {
      const conv = await api('POST', `/api/inbox/conversations/${encodeURIComponent(c.id)}/${what}`);
      refreshConversation(conv);
      toast({ resolve: 'Resolved.', 'hand-back': 'Handed back to the AI.', reopen: 'Reopened.' }[what] || 'Done.');
      loadList();
    } catch { /* shown */ }
  }

  async function doAssign(value) {
    const c = st.view && st.view.conversation;
    if (!c || !value) return;
    let body;
    if (value === 'me') body = { agent: me.id };
    else if (value === 'none') body = {};
    else if (value.startsWith('u:')) body = { agent: value.slice(2) };
    else if (value.startsWith('t:')) body = { team: value.slice(2) };
    try {
      refreshConversation(await api('POST', `/api/inbox/conversations/${encodeURIComponent(c.id)}/assign`, body));
      loadList();
    } catch { drawHead(); }
  }

  let sending = false;
  async function send() {
    const c = st.view && st.view.conversation;
    const text = textarea.value.trim();
    if (!c || !text || sending) return;
    sending = true;
    sendBtn.disabled = true;
    const clientId = `a-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      if (st.mode === 'note') {
        await api('POST', `/api/inbox/conversations/${encodeURIComponent(c.id)}/notes`, { text });
      } else {
        const takeover = heldByOther();
        if (takeover && !confirm(`${c.assignee_name || 'Another agent'} is handling this conversation. Take it over and send?`)) return;
        await api('POST', `/api/inbox/conversations/${encodeURIComponent(c.id)}/reply`, { text, client_id: clientId, takeover });
        stopTyping();
      }
      textarea.value = '';
    } catch (e) {
      if (e.status === 409) openConversation(c.id, true);
    } finally {
      sending = false;
      sendBtn.disabled = false;
      drawComposerState();
    }
  }

  let typingOn = false;
  let typingTimer = null;
  let typingSentAt = 0;
  function typingPing(on) {
    const c = st.view && st.view.conversation;
    if (!c) return;
    api('POST', `/api/inbox/conversations/${encodeURIComponent(c.id)}/typing`, { on }, { quiet: true }).catch(() => {});
  }
  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingOn) { typingOn = false; typingPing(false); }
  }
  textarea.addEventListener('input', () => {
    if (st.mode !== 'reply') return;
    const now = Date.now();
    if (!typingOn || now - typingSentAt > 4000) { typingOn = true; typingSentAt = now; typingPing(true); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 4000);
  });
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
    if (e.key === 'Escape') textarea.blur();
  });

  // ---- live events ----
  function notifyHandoff(convId, text) {
    if (st.sound) beep();
    if (st.desktop && 'Notification' in window && Notification.permission === 'granted') {
      try {
        const n = new Notification('New conversation for the team', { body: text, tag: convId });
        n.onclick = () => { window.focus(); location.hash = `#/inbox/${encodeURIComponent(convId)}`; n.close(); };
      } catch { /* some browsers only allow notifications from a service worker */ }
    }
  }

  function onEvent(kind, data) {
    if (kind === 'hello' || kind === 'resync') {
      loadList();
      if (kind === 'resync' && st.openId) openConversation(st.openId, true);
      return;
    }
    if (kind === 'message') {
      if (data.message.body.type === 'event' && data.message.body.event === 'handoff') {
        const reason = data.message.body.text || 'A visitor needs a person.';
        notifyHandoff(data.conversation, reason);
      }
      if (st.view && data.conversation === st.view.conversation.id) appendMessage(data.message);
      reloadListSoon();
    } else if (kind === 'conversation') {
      refreshConversation(data.conversation);
      reloadListSoon();
    } else if (kind === 'typing') {
      if (!st.view || data.conversation !== st.view.conversation.id) return;
      const key = data.who.kind === 'visitor' ? 'visitor' : data.who.id;
      if (key === me.id) return;
      if (data.typing) st.typing.set(key, data.who.kind === 'visitor' ? 'visitor' : data.who.name);
      else st.typing.delete(key);
      drawPresence();
    } else if (kind === 'viewing') {
      if (!st.view || data.conversation !== st.view.conversation.id || data.agent === me.id) return;
      if (data.viewing) st.viewers.set(data.agent, data.name);
      else { st.viewers.delete(data.agent); st.typing.delete(data.agent); }
      drawPresence();
    }
  }

  function connect() {
    if (!alive) return;
    es = new EventSource('/api/inbox/stream');
    for (const k of ['hello', 'message', 'conversation', 'typing', 'viewing', 'presence', 'resync']) {
      es.addEventListener(k, (ev) => {
        let data = {};
        try { data = JSON.parse(ev.data); } catch { return; }
        onEvent(k, data);
      });
    }
    es.onerror = () => {
      // EventSource retries by itself; when the session ended the stream answers 401 and
      // closes: check the session so the app can ask to sign in again.
      if (es.readyState === EventSource.CLOSED) {
        api('GET', '/api/auth/me', null, { quiet: true }).then(() => setTimeout(connect, 3000)).catch(() => {});
      }
    };
  }

  // ---- keyboard ----
  const help = h('div', { class: 'help', hidden: true, onclick: (e) => { if (e.target === help) help.hidden = true; } },
    h('div', { role: 'dialog', 'aria-label': 'Keyboard shortcuts' }, h('h2', {}, 'Keyboard shortcuts'),
      h('dl', {}, [['j / k', 'Next / previous conversation'], ['r', 'Reply'], ['n', 'Private note'], ['e', 'Resolve'],
        ['/', 'Search'], ['Ctrl+Enter', 'Send'], ['Esc', 'Leave the text box / close'], ['?', 'This help']]
        .map(([k, v]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, v)])),
      h('button', { type: 'button', onclick: () => { help.hidden = true; } }, 'Close')));
  document.body.append(help);

  function move(delta) {
    if (!st.items.length) return;
    const i = st.items.findIndex((c) => c.id === st.openId);
    const next = st.items[Math.max(0, Math.min(st.items.length - 1, i < 0 ? 0 : i + delta))];
    if (next) {
      location.hash = `#/inbox/${encodeURIComponent(next.id)}`;
      itemsBox.querySelector(`[data-id="${CSS.escape(next.id)}"]`)?.scrollIntoView({ block: 'nearest' });
    }
  }

  function onKey(e) {
    if (e.key === 'Escape') { help.hidden = true; return; }
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const k = e.key;
    if (k === 'j') move(1);
    else if (k === 'k') move(-1);
    else if (k === 'r' && st.view) { e.preventDefault(); setMode('reply'); textarea.focus(); }
    else if (k === 'n' && st.view) { e.preventDefault(); setMode('note'); textarea.focus(); }
    else if (k === 'e' && st.view && st.view.conversation.state !== 'resolved') act('resolve');
    else if (k === '/') { e.preventDefault(); search.focus(); }
    else if (k === '?') help.hidden = !help.hidden;
    else return;
  }
  document.addEventListener('keydown', onKey);

  // ---- presence ----
  const beat = () => api('POST', '/api/inbox/heartbeat', { away: false }, { quiet: true }).catch(() => {});
  const offline = () => {
    try {
      fetch('/api/inbox/offline', { method: 'POST', keepalive: true, credentials: 'same-origin', headers: { 'X-CSRF-Token': session.me ? session.me.csrf_token : '' } });
    } catch { /* closing */ }
  };
  window.addEventListener('pagehide', offline);

  // ---- start ----
  setMode('reply');
  drawFilters();
  beat();
  timers.push(setInterval(beat, HEARTBEAT_MS));
  timers.push(setInterval(() => {
    if (st.view) api('POST', `/api/inbox/conversations/${encodeURIComponent(st.view.conversation.id)}/viewing`, { on: true }, { quiet: true }).catch(() => {});
  }, HEARTBEAT_MS));
  timers.push(setInterval(() => { if (st.items.length) drawList(); }, 30000));
  api('GET', '/api/team/users', null, { quiet: true }).then((u) => { st.users = u; if (st.view) drawHead(); }).catch(() => {});
  api('GET', '/api/team/teams', null, { quiet: true }).then((t) => { st.teams = t; if (st.view) drawHead(); }).catch(() => {});
  await loadList();
  await openConversation(st.openId);
  connect();

  return {
    update(nextSub) {
      const id = nextSub || null;
      if (id !== st.openId) openConversation(id);
    },
    cleanup() {
      alive = false;
      if (es) es.close();
      timers.forEach(clearInterval);
      clearTimeout(listTimer);
      stopTyping();
      if (st.view) api('POST', `/api/inbox/conversations/${encodeURIComponent(st.view.conversation.id)}/viewing`, { on: false }, { quiet: true }).catch(() => {});
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('pagehide', offline);
      help.remove();
      document.title = 'Baton · Team';
    },
  };
}
