// MemLong web chat: talks to /ws with Protobuf canonical JSON text frames (see memlong_gateway.proto).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  let ws = null;
  let nextId = 1;
  let current = null;          // request id of the reply being streamed
  const bubbles = new Map();   // request id -> assistant message element

  const newId = (kind) => kind + '-' + (nextId++);
  const setStatus = (text) => { $('status').textContent = text; };
  const enable = (on) => {
    for (const id of ['input', 'send', 'refresh-memory', 'forget']) $(id).disabled = !on;
  };

  function send(frame) {
    ws.send(JSON.stringify(frame));
  }

  function addMessage(role, text) {
    const li = document.createElement('li');
    li.className = 'msg ' + role;
    const body = document.createElement('div');
    body.className = 'text';
    body.textContent = text;
    li.appendChild(body);
    $('messages').appendChild(li);
    li.scrollIntoView({block: 'end'});
    return li;
  }

  function connect(event) {
    event.preventDefault();
    if (ws) ws.close();
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const key = $('api-key').value.trim();
    if (key) url.searchParams.set('api_key', key);
    setStatus('connecting');
    ws = new WebSocket(url);
    ws.onopen = () => send({open: {requestId: newId('open'), conversationId: $('conversation').value, includeHistory: true}});
    ws.onmessage = (e) => onFrame(JSON.parse(e.data));
    ws.onclose = (e) => { setStatus('disconnected (' + e.code + ')'); enable(false); $('cancel').disabled = true; };
    ws.onerror = () => setStatus('connection failed');
  }

  function onFrame(f) {
    if (f.opened) {
      $('messages').replaceChildren();
      for (const m of f.opened.history || []) addMessage(m.role, m.text);
      setStatus('connected: ' + f.opened.tenant + ' / ' + f.opened.conversationId);
      enable(true);
      refreshMemory();
    } else if (f.delta) {
      const li = bubbles.get(f.delta.requestId);
      if (li) li.querySelector('.text').textContent += f.delta.text;
    } else if (f.done) {
      finish(f.done);
    } else if (f.memory) {
      showMemory(f.memory.chunks || []);
    } else if (f.forgotten) {
      $('messages').replaceChildren();
      refreshMemory();
    } else if (f.error) {
      const li = bubbles.get(f.error.requestId);
      const target = li || addMessage('error', '');
      target.classList.add('error');
      target.dataset.done = 'true';
      target.querySelector('.text').textContent += ' [' + f.error.code + ': ' + f.error.message + ']';
      endTurn(f.error.requestId);
    }
  }

  function finish(done) {
    const li = bubbles.get(done.requestId);
    if (!li) return;
    li.querySelector('.text').textContent = done.text;
    const used = done.retrieved || [];
    if (used.length) {
      const box = document.createElement('div');
      box.className = 'used';
      box.textContent = 'Memory used:';
      const list = document.createElement('ul');
      for (const c of used) {
        const item = document.createElement('li');
        item.dataset.seq = c.seq;
        item.textContent = '#' + c.seq + ' ' + c.text;
        list.appendChild(item);
      }
      box.appendChild(list);
      li.appendChild(box);
    }
    const meta = document.createElement('div');
    meta.className = 'meta';
    const t = done.timings || {};
    const u = done.usage || {};
    meta.textContent = (u.completionTokens || 0) + ' tokens, first after ' + Math.round(t.ttftMs || 0) + ' ms, '
        + (t.tokensPerSecond || 0).toFixed(1) + ' tok/s';
    li.appendChild(meta);
    li.dataset.done = 'true';
    endTurn(done.requestId);
    refreshMemory();
  }

  function endTurn(requestId) {
    bubbles.delete(requestId);
    if (current === requestId) {
      current = null;
      $('cancel').disabled = true;
      $('send').disabled = false;
    }
  }

  function showMemory(chunks) {
    const list = $('memory-list');
    list.replaceChildren();
    for (const c of chunks) {
      const li = document.createElement('li');
      li.dataset.seq = c.seq;
      li.textContent = c.text + ' ';
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = '(#' + c.seq + ', used ' + (c.retrievalCount || 0) + '×)';
      li.appendChild(count);
      list.appendChild(li);
    }
    $('memory-count').textContent = '(' + chunks.length + ')';
  }

  function refreshMemory() {
    if (ws && ws.readyState === WebSocket.OPEN) send({listMemory: {requestId: newId('mem')}});
  }

  function sendMessage(event) {
    event.preventDefault();
    const text = $('input').value.trim();
    if (!text || current) return;
    $('input').value = '';
    addMessage('user', text);
    current = newId('msg');
    bubbles.set(current, addMessage('assistant', ''));
    $('send').disabled = true;
    $('cancel').disabled = false;
    const message = {requestId: current, text: text};
    // sent with every message: the same prompt again changes nothing, a new one is stored with this turn
    const system = $('system-prompt').value.trim();
    if (system) message.systemPrompt = system;
    send({message: message});
  }

  $('connect-form').addEventListener('submit', connect);
  $('send-form').addEventListener('submit', sendMessage);
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) sendMessage(e);
  });
  $('cancel').addEventListener('click', () => { if (current) send({cancel: {requestId: current}}); });
  $('refresh-memory').addEventListener('click', refreshMemory);
  $('forget').addEventListener('click', () => {
    if (confirm('Forget this conversation\'s dialogue and memory?')) send({forget: {requestId: newId('forget')}});
  });
})();
