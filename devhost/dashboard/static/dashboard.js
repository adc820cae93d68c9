// The dashboard page: lists orchestrations with their progress, one instance's history, terminate and purge.
// It calls only the Durable HTTP API paths, on its own origin (the dashboard server passes them on with the key).
// Everything shown comes from the API and is untrusted: it goes into the page only as text (textContent, value,
// dataset), never as HTML.
'use strict';

(function () {
  const model = window.DashboardModel;
  const API = '/runtime/webhooks/durabletask/instances';
  const CONTINUATION = 'x-ms-continuation-token';
  const PAGE_SIZE = 100;
  const MAX_PAGES = 20;
  const params = new URLSearchParams(window.location.search);
  const refreshSeconds = Math.min(60, Math.max(0.2, Number(params.get('refresh')) || 1));

  const $ = (id) => document.getElementById(id);
  const rows = new Map(); // instance id -> {row, cells}
  let selected = null;
  let timer = null;
  let generation = 0;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  async function problem(response) {
    return model.problemOf(response.status, await response.text());
  }

  async function listAll() {
    const query = new URLSearchParams({ top: String(PAGE_SIZE), showInput: 'false' });
    const prefix = $('prefix').value.trim();
    const status = $('status').value;
    if (prefix) query.set('instanceIdPrefix', prefix);
    if (status) query.set('runtimeStatus', status);
    const found = [];
    let token = null;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const headers = token ? { [CONTINUATION]: token } : {};
      const response = await fetch(`${API}?${query}`, { headers, cache: 'no-store' });
      if (!response.ok) throw new Error(await problem(response));
      const body = await response.json();
      if (!Array.isArray(body)) throw new Error('The instances list is not a JSON array.');
      found.push(...body.filter((item) => item && typeof item === 'object' && typeof item.instanceId === 'string'));
      token = response.headers.get(CONTINUATION);
      if (!token) return { found, more: false };
    }
    return { found, more: true };
  }

  function progressText(progress) {
    if (!progress) return 'no progress';
    return `${progress.percent}% · step ${progress.step}/${progress.steps} · ${progress.stage}`;
  }

  function makeRow(id) {
    const row = element('tr', null, 'instance');
    row.dataset.instanceId = id;
    const cells = {};
    for (const name of ['id', 'status', 'progress', 'message', 'delivery', 'updated', 'actions']) {
      cells[name] = element('td', null, name);
      row.appendChild(cells[name]);
    }
    cells.id.textContent = id;
    cells.bar = element('progress');
    cells.bar.max = 100;
    cells.percent = element('span', null, 'percent');
    cells.progress.append(cells.bar, cells.percent);
    cells.terminate = element('button', 'Terminate', 'terminate');
    cells.purge = element('button', 'Purge', 'purge');
    cells.terminate.type = 'button';
    cells.purge.type = 'button';
    cells.terminate.addEventListener('click', (event) => { event.stopPropagation(); terminate(id); });
    cells.purge.addEventListener('click', (event) => { event.stopPropagation(); purge(id); });
    cells.actions.append(cells.terminate, cells.purge);
    row.addEventListener('click', () => select(id));
    return { row, cells };
  }

  function update(entry, instance) {
    const { cells, row } = entry;
    const runtime = typeof instance.runtimeStatus === 'string' ? instance.runtimeStatus : 'unknown';
    const progress = model.progressOf(instance.customStatus);
    const delivery = model.deliveryOf(instance);
    cells.status.textContent = runtime;
    cells.status.className = `status status-${runtime.replace(/[^A-Za-z]/g, '')}`;
    // No bar at all without the progress shape: an indeterminate one would look like work going on.
    if (progress) cells.bar.value = progress.percent; else cells.bar.removeAttribute('value');
    cells.bar.hidden = !progress;
    cells.bar.title = progressText(progress);
    cells.percent.textContent = progressText(progress);
    cells.message.textContent = progress ? progress.message : model.brief(instance.customStatus, 120);
    cells.delivery.textContent = delivery.text;
    cells.delivery.className = `delivery delivery-${delivery.state}`;
    cells.updated.textContent = typeof instance.lastUpdatedTime === 'string' ? instance.lastUpdatedTime : '';
    const active = model.ACTIVE.includes(runtime);
    cells.terminate.hidden = !active;
    cells.purge.hidden = active;
    row.classList.toggle('selected', row.dataset.instanceId === selected);
  }

  function groupRow(conversation, count) {
    const row = element('tr', null, 'conversation');
    const cell = element('th');
    cell.colSpan = 7;
    const label = conversation
      ? `Conversation ${conversation} (${count} operation${count === 1 ? '' : 's'})`
      : `Not a conversation's operation (${count})`;
    cell.appendChild(element('span', label));
    if (conversation) {
      const only = element('button', 'Only this conversation', 'only');
      only.type = 'button';
      only.addEventListener('click', () => { $('prefix').value = conversation; refreshNow(); });
      cell.append(' ', only);
    }
    row.appendChild(cell);
    return row;
  }

  function render(found, more) {
    const groups = new Map();
    for (const instance of found) {
      const key = model.conversationOf(instance.instanceId) || '';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(instance);
    }
    const newest = (list) => list.reduce((latest, i) => (String(i.createdTime) > latest ? String(i.createdTime) : latest), '');
    const ordered = [...groups.entries()].sort((a, b) => (a[0] === '') - (b[0] === '') || newest(b[1]).localeCompare(newest(a[1])));
    const body = $('instances').tBodies[0];
    const seen = new Set();
    const children = [];
    for (const [conversation, list] of ordered) {
      children.push(groupRow(conversation, list.length));
      list.sort((a, b) => String(b.createdTime).localeCompare(String(a.createdTime)));
      for (const instance of list) {
        let entry = rows.get(instance.instanceId);
        if (!entry) { entry = makeRow(instance.instanceId); rows.set(instance.instanceId, entry); }
        update(entry, instance);
        seen.add(instance.instanceId);
        children.push(entry.row);
      }
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    body.replaceChildren(...children);
    $('empty').hidden = found.length > 0;
    $('more').hidden = !more;
    $('more').textContent = more
      ? `Showing the first ${found.length} instances; narrow the list with the prefix or status filter.` : '';
  }

  function pretty(value) {
    if (value === undefined || value === null) return '(none)';
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  }

  async function showDetails() {
    if (!selected) { $('details').hidden = true; return; }
    const id = selected;
    const query = 'showHistory=true&showHistoryOutput=true&showInput=false';
    const response = await fetch(`${API}/${encodeURIComponent(id)}?${query}`, { cache: 'no-store' });
    if (id !== selected) return;
    if (response.status === 404) {
      selected = null;
      $('details').hidden = true;
      $('notice').textContent = `Instance ${id} is no longer there (purged).`;
      return;
    }
    if (!response.ok && response.status !== 202) throw new Error(await problem(response));
    const instance = await response.json();
    const delivery = model.deliveryOf(instance);
    $('detail-id').textContent = id;
    $('detail-name').textContent = pretty(instance.name);
    $('detail-conversation').textContent = model.conversationOf(id) || 'none (not an op-<hash>- instance id)';
    $('detail-status').textContent = pretty(instance.runtimeStatus);
    $('detail-delivery').textContent = delivery.text;
    $('detail-delivery').className = `delivery-${delivery.state}`;
    $('detail-created').textContent = pretty(instance.createdTime);
    $('detail-updated').textContent = pretty(instance.lastUpdatedTime);
    $('detail-custom').textContent = pretty(instance.customStatus);
    $('detail-output').textContent = pretty(instance.output);
    const entries = model.timelineOf(instance.historyEvents).map((entry) => {
      const item = element('li', null, entry.type.replace(/[^A-Za-z]/g, ''));
      const offset = entry.offsetSeconds === null ? '' : `+${entry.offsetSeconds.toFixed(2)} s`;
      item.append(element('span', offset, 'offset'), element('span', entry.type, 'type'), element('span', entry.name, 'name'));
      item.title = entry.timestamp;
      if (entry.detail) item.appendChild(element('span', entry.detail, 'detail'));
      return item;
    });
    $('timeline').replaceChildren(...entries);
    $('details').hidden = false;
  }

  function select(id) {
    selected = id;
    for (const [other, entry] of rows) entry.row.classList.toggle('selected', other === id);
    refreshNow();
  }

  async function act(method, path, done, after, refusal) {
    // The header tells the dashboard server this came from its page (app.py: PAGE_HEADER).
    const response = await fetch(path, { method, headers: { 'X-Devhost-Dashboard': '1' } });
    if (!response.ok) {
      $('error').textContent = refusal(response.status) || await problem(response);
      return;
    }
    $('error').textContent = '';
    $('notice').textContent = done;
    if (after) after();
    refreshNow();
  }

  function terminate(id) {
    if (!window.confirm(`Terminate ${id}? Its outcome will not reach the conversation.`)) return;
    const reason = encodeURIComponent('Terminated from the devhost dashboard.');
    act('POST', `${API}/${encodeURIComponent(id)}/terminate?reason=${reason}`, `Terminate requested for ${id}.`, null,
      (status) => model.refusalOf('terminate', status, id));
  }

  function purge(id) {
    if (!window.confirm(`Purge ${id}? Its history is deleted for good.`)) return;
    act('DELETE', `${API}/${encodeURIComponent(id)}`, `Purged ${id}.`, () => {
      if (selected === id) { selected = null; $('details').hidden = true; }
    }, (status) => model.refusalOf('purge', status, id));
  }

  async function refresh() {
    try {
      const { found, more } = await listAll();
      render(found, more);
      await showDetails();
      $('error').textContent = '';
    } catch (error) {
      $('error').textContent = error instanceof Error ? error.message : String(error);
    }
  }

  function refreshNow() {
    // One chain of refreshes: a refresh asked for while another runs takes over, and only it schedules the next.
    clearTimeout(timer);
    const mine = ++generation;
    refresh().finally(() => { if (mine === generation) timer = setTimeout(refreshNow, refreshSeconds * 1000); });
  }

  async function start() {
    $('prefix').value = params.get('prefix') || '';
    $('status').value = params.get('status') || '';
    $('filters').addEventListener('submit', (event) => { event.preventDefault(); refreshNow(); });
    $('prefix').addEventListener('change', refreshNow);
    $('status').addEventListener('change', refreshNow);
    $('clear').addEventListener('click', () => { $('prefix').value = ''; $('status').value = ''; refreshNow(); });
    try {
      const response = await fetch('/config.json', { cache: 'no-store' });
      const config = await response.json();
      $('source').textContent = `Reading ${config.functionsUrl} (Durable HTTP API) with ${config.keySource}; ` +
        `refreshed every ${refreshSeconds} s.`;
    } catch (error) {
      $('source').textContent = 'The dashboard server did not answer its configuration.';
    }
    refreshNow();
  }

  start();
})();
