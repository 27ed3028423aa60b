// The dashboard: requests arrive over GET /__admin/events (server-sent events, read through
// fetch so the admin token can travel as a header, never in a URL). Every value is put in the
// page as text (textContent), never as markup.
'use strict';

const MAX_SHOWN = 500;
const MAX_HELD = 2000;
const TOKEN_KEY = 'metrica-s2s-admin-token';

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  lastSeq: 0,
  paused: false,
  held: [],
  codes: new Map(),
  seconds: new Map(),
  retryMs: 500,
  redraw: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function authHeaders() {
  return state.token ? { Authorization: 'Bearer ' + state.token } : {};
}

function setStatus(text, cls) {
  const s = $('status');
  s.textContent = text;
  s.className = 'status ' + (cls || '');
}

// --- the stream -------------------------------------------------------------------------

async function connect() {
  const headers = authHeaders();
  if (state.lastSeq) headers['Last-Event-ID'] = String(state.lastSeq);
  let res;
  try {
    res = await fetch('/__admin/events', { headers, cache: 'no-store' });
  } catch (e) {
    setStatus('disconnected (' + e.message + '); retrying', 'bad');
    return retry();
  }
  if (res.status === 401) {
    setStatus('this mock needs its admin token', 'bad');
    $('token-form').hidden = false;
    return;
  }
  if (!res.ok) {
    setStatus('the event stream answered HTTP ' + res.status + '; retrying', 'bad');
    return retry();
  }
  $('token-form').hidden = true;
  state.retryMs = 500;
  setStatus('live', 'live');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      break;
    }
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      onBlock(block);
    }
  }
  setStatus('the stream ended; reconnecting', 'bad');
  retry();
}

function retry() {
  setTimeout(connect, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 10000);
}

function onBlock(block) {
  let event = 'message';
  let data = '';
  let id = null;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data += (data ? '\n' : '') + value;
    else if (field === 'id') id = value;
  }
  if (id) state.lastSeq = Number(id);
  if (!data) return;
  const payload = JSON.parse(data);
  if (event === 'request') {
    if (state.paused) {
      state.held.push(payload);
      if (state.held.length > MAX_HELD) state.held.shift();
      setStatus('paused: ' + state.held.length + ' waiting', '');
    } else {
      show(payload);
    }
  } else if (event === 'postback') {
    showPostback(payload);
  } else if (event === 'gap') {
    const p = el('p', 'gap', payload.missed + ' request(s) left the journal before this page could show them');
    $('entries').prepend(p);
  }
}

// --- one request ------------------------------------------------------------------------

function severityOf(entry) {
  const sev = (entry.diagnostics || []).map((d) => d.severity);
  if (sev.includes('error')) return 'error';
  if (sev.includes('warning')) return 'warning';
  return '';
}

function show(payload) {
  const entry = payload.entry;
  $('empty').hidden = true;
  count(entry);
  const article = el('article', 'entry ' + severityOf(entry) + (entry.fault ? ' faulted' : ''));
  article.dataset.seq = String(entry.seq);
  article.dataset.kind = entry.kind;
  article.dataset.status = String(entry.status);
  article.dataset.tracking = entry.tracking_id || '';
  article.dataset.click = (entry.params && entry.params.click_id) || '';
  article.dataset.codes = (entry.diagnostics || []).map((d) => d.code).join(' ');

  const line = el('div', 'line');
  line.append(
    el('span', 'muted', '#' + entry.seq),
    el('time', '', entry.received_at),
    el('span', 'badge', entry.kind),
    el('span', 'status-code', entry.status === 0 ? 'no answer' : 'HTTP ' + entry.status),
    el('span', '', 'tracking id '),
    el('code', '', entry.tracking_id === null ? '(none)' : entry.tracking_id),
    el('span', '', 'click id '),
    el('code', '', article.dataset.click || '(none)'),
  );
  if (entry.fault) {
    line.append(el('span', 'badge fault', 'fault ' + entry.fault.id + ': ' + entry.fault.fault +
      (entry.fault.status ? ' ' + entry.fault.status : '')));
  }
  article.append(line);
  article.append(el('pre', 'target', entry.target));

  const diags = entry.diagnostics || [];
  if (diags.length) {
    const list = el('ul', 'diags');
    diags.forEach((d, i) => list.append(diagnostic(d, (payload.excerpts || [])[i])));
    article.append(list);
  }

  const params = el('dl', 'params');
  for (const [k, v] of Object.entries(entry.params || {})) {
    params.append(el('dt', '', k), el('dd', '', v));
  }
  const details = el('details');
  details.append(el('summary', '', 'parameters, decoded (' + Object.keys(entry.params || {}).length + ')'), params);
  if (entry.user_agent) details.append(el('p', 'muted', "sender's User-Agent: " + entry.user_agent));
  article.append(details);

  const actions = el('div', 'actions');
  const copy = el('button', '', 'copy as curl');
  copy.type = 'button';
  copy.addEventListener('click', () => copyCurl(entry, copy));
  actions.append(copy);
  article.append(actions);

  applyFilter(article);
  const list = $('entries');
  list.prepend(article);
  while (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
}

// A postback delivery, shown once and updated in place as its attempts come in.
function showPostback(d) {
  $('empty').hidden = true;
  let a = document.querySelector('[data-postback="' + CSS.escape(String(d.id)) + '"]');
  if (!a) {
    a = el('article', 'entry postback');
    a.dataset.postback = String(d.id);
    $('entries').prepend(a);
  }
  a.classList.toggle('error', !d.delivered && d.state !== 'pending');
  a.replaceChildren();
  const line = el('div', 'line');
  line.append(
    el('span', 'badge', 'postback #' + d.id),
    el('span', '', d.event + (d.event_name ? ' ' + d.event_name : '')),
    el('span', 'status-code', d.state),
    el('span', '', 'transaction '),
    el('code', '', d.transaction_id),
    el('span', '', 'click id '),
    el('code', '', d.click_id || '(none)'),
  );
  a.append(line, el('pre', 'target', d.method + ' ' + d.url));
  if (d.body) a.append(el('pre', 'target', d.body));
  const attempts = el('ul', 'diags');
  for (const at of d.attempts || []) {
    const what = at.status !== null && at.status !== undefined ? 'HTTP ' + at.status : (at.error || 'no answer');
    // 200 is delivered under both of AppMetrica's readings, another 2xx under one of them.
    const sev = at.status === 200 ? '' : at.status >= 200 && at.status < 300 ? 'sev-warning' : 'sev-error';
    attempts.append(el('li', sev,
      at.at + ': ' + what + ' in ' + at.duration_ms + ' ms' + (at.repeat ? ' (repeat)' : '') +
      (at.answer ? ' — ' + at.answer : '')));
  }
  a.append(attempts);
}

function diagnostic(d, excerpt) {
  const li = el('li');
  li.dataset.code = d.code;
  li.append(el('span', 'sev-' + d.severity, d.severity + ' '), el('code', '', d.code), document.createTextNode(' ' + d.message));
  if (excerpt) {
    const chars = Array.from(excerpt.text);
    const pre = el('pre', 'excerpt');
    pre.append(
      document.createTextNode(chars.slice(0, excerpt.mark_start).join('')),
      el('mark', '', chars.slice(excerpt.mark_start, excerpt.mark_start + Math.max(excerpt.mark_width, 1)).join('')),
      document.createTextNode(chars.slice(excerpt.mark_start + Math.max(excerpt.mark_width, 1)).join('')),
    );
    li.append(pre);
  }
  li.append(el('div', 'hint', 'fix: ' + d.hint));
  const why = el('button', '', 'explain ' + d.code);
  why.type = 'button';
  why.addEventListener('click', () => explain(d.code, li, why));
  li.append(why);
  return li;
}

async function explain(code, li, button) {
  button.disabled = true;
  try {
    const res = await fetch('/__admin/rules/' + encodeURIComponent(code), { headers: authHeaders() });
    li.append(el('pre', 'explain', res.ok ? await res.text() : 'HTTP ' + res.status));
  } catch (e) {
    li.append(el('pre', 'explain', e.message));
  }
}

// The request again, for a terminal: single quotes keep the shell from reading anything.
function copyCurl(entry, button) {
  const quote = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
  const url = location.protocol + '//' + (entry.host || location.host) + entry.target;
  const cmd = 'curl -i ' + (entry.user_agent ? '-A ' + quote(entry.user_agent) + ' ' : '') + quote(url);
  const done = () => { button.textContent = 'copied'; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(cmd).then(done, () => fallbackCopy(cmd, button));
  } else {
    fallbackCopy(cmd, button);
  }
}

function fallbackCopy(cmd, button) {
  const box = el('textarea');
  box.value = cmd;
  box.readOnly = true;
  box.rows = 2;
  box.cols = 80;
  button.after(box);
  box.select();
}

// --- filters, counts, chart ------------------------------------------------------------

function filters() {
  return {
    tracking: $('f-tracking').value.trim(),
    click: $('f-click').value.trim(),
    kind: $('f-kind').value,
    status: $('f-status').value.trim(),
    code: $('f-code').value.trim(),
  };
}

function applyFilter(a, f = filters()) {
  const ok = (!f.tracking || a.dataset.tracking === f.tracking)
    && (!f.click || a.dataset.click === f.click)
    && (!f.kind || a.dataset.kind === f.kind)
    && (!f.status || a.dataset.status === f.status)
    && (!f.code || a.dataset.codes.split(' ').includes(f.code));
  a.hidden = !ok;
}

function refilter() {
  const f = filters();
  for (const a of document.querySelectorAll('article.entry')) applyFilter(a, f);
}

function count(entry) {
  const second = Math.floor(Date.parse(entry.received_at) / 1000);
  const s = state.seconds.get(second) || { all: 0, errors: 0 };
  s.all += 1;
  if (severityOf(entry) === 'error' || entry.status >= 400 || entry.status === 0) s.errors += 1;
  state.seconds.set(second, s);
  for (const d of entry.diagnostics || []) state.codes.set(d.code, (state.codes.get(d.code) || 0) + 1);
  renderCodes();
  if (!state.redraw) {
    state.redraw = true;
    requestAnimationFrame(() => { state.redraw = false; drawChart(); });
  }
}

function renderCodes() {
  const list = $('codes');
  list.replaceChildren();
  const sorted = [...state.codes.entries()].sort((a, b) => b[1] - a[1]);
  for (const [code, n] of sorted) {
    const b = el('button', '', code + ' ' + n);
    b.type = 'button';
    b.title = 'show only ' + code;
    b.addEventListener('click', () => { $('f-code').value = code; refilter(); });
    const li = el('li');
    li.append(b);
    list.append(li);
  }
}

function drawChart() {
  const canvas = $('chart');
  const ctx = canvas.getContext('2d');
  const now = Math.floor(Date.now() / 1000);
  const w = canvas.width / 60;
  let max = 1;
  for (let i = 0; i < 60; i++) max = Math.max(max, (state.seconds.get(now - 59 + i) || { all: 0 }).all);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < 60; i++) {
    const s = state.seconds.get(now - 59 + i) || { all: 0, errors: 0 };
    const h = (s.all / max) * (canvas.height - 12);
    const eh = (s.errors / max) * (canvas.height - 12);
    ctx.fillStyle = '#9cc59c';
    ctx.fillRect(i * w, canvas.height - h, w - 1, h);
    ctx.fillStyle = '#d35b6a';
    ctx.fillRect(i * w, canvas.height - eh, w - 1, eh);
  }
  ctx.fillStyle = '#555';
  ctx.font = '10px system-ui';
  ctx.fillText('requests (green) and errors (red) per second, last minute; peak ' + max, 4, 10);
  for (const k of state.seconds.keys()) if (k < now - 120) state.seconds.delete(k);
}

// --- controls ---------------------------------------------------------------------------

function start() {
  $('serve-url').textContent = location.origin + '/serve/<tracking id>?click_id=…';
  for (const id of ['f-tracking', 'f-click', 'f-status', 'f-code']) $(id).addEventListener('input', refilter);
  $('f-kind').addEventListener('change', refilter);
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
    if (!state.paused) {
      const held = state.held;
      state.held = [];
      held.forEach(show);
      setStatus('live', 'live');
    }
  });
  $('clear').addEventListener('click', async () => {
    const res = await fetch('/__admin/requests', { method: 'DELETE', headers: authHeaders() });
    if (res.ok) {
      $('entries').replaceChildren();
      state.codes.clear();
      state.seconds.clear();
      renderCodes();
    }
  });
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $('token').value = '';
    connect();
  });
  setInterval(drawChart, 1000);
  drawChart();
  connect();
}

start();
