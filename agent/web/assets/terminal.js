// terminal.js: the executive's counter. Session token in sessionStorage (this
// tab only); every action goes to the LAN API and the screen is refetched from
// it, never patched from the stream.
(function () {
  'use strict';
  const { t, api, el, waitRange } = window.TK;
  const $ = (id) => document.getElementById(id);
  const STORE = 'ticketero.terminal.session';

  const state = { token: null, counter: null, session: null, services: [], busy: false, timer: null };

  function saved() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || 'null'); } catch (e) { return null; }
  }
  function save(token, counter) {
    state.token = token;
    state.counter = counter;
    if (token) sessionStorage.setItem(STORE, JSON.stringify({ token: token, counter: counter }));
    else sessionStorage.removeItem(STORE);
  }
  function authed(method, path, payload) {
    return api(method, path, payload, { token: state.token });
  }
  function error(msg) { TK.showError($('term-error'), msg); }
  function info(msg) { TK.showError($('term-info'), msg); }

  // Sign-in.
  async function showSignIn(msg) {
    state.session = null;
    $('workspace').hidden = true;
    $('signin').hidden = false;
    $('sign-out').hidden = true;
    $('who').textContent = '';
    document.body.dataset.signedIn = 'false';
    error(msg || '');
    try {
      // The executive types his ID: the page lists no IDs (what a PIN guess needs).
      const co = await api('GET', '/counters');
      const cs = $('si-counter');
      const keepC = cs.value;
      cs.length = 1;
      ((co && co.counters) || []).forEach((c) => {
        const name = c.name || t('ui.counter', { n: c.number });
        cs.appendChild(el('option', {
          value: String(c.number),
          text: c.taken ? t('ui.terminal.counter_taken', { name: name, executive: c.executive_name || '' }) : name,
        }));
      });
      cs.value = keepC;
    } catch (e) {
      error(e.message);
    }
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { executive: $('si-executive').value.trim().toUpperCase(), pin: $('si-pin').value, counter: Number($('si-counter').value) };
    $('si-submit').disabled = true;
    try {
      const s = await api('POST', '/sessions', body);
      $('si-pin').value = '';
      save(s.token, s.counter);
      error('');
      await refresh();
      if (s.pin_change_required) info(t('ui.terminal.pin_weak'));
    } catch (e) {
      error(e.message);
      $('si-pin').select();
    } finally {
      $('si-submit').disabled = false;
    }
  });

  $('sign-out').addEventListener('click', async () => {
    try { await authed('DELETE', '/sessions/current'); } catch (e) { /* signed out locally anyway */ }
    save(null, null);
    showSignIn();
  });

  // refresh reloads the session and the queues he serves.
  async function refresh() {
    if (!state.token) { showSignIn(); return; }
    let s;
    try {
      s = await authed('GET', '/sessions/current');
    } catch (e) {
      if (e.status === 401) { save(null, null); showSignIn(t('ui.terminal.session_expired')); return; }
      error(e.message);
      return;
    }
    state.session = s;
    state.counter = s.counter;
    $('signin').hidden = true;
    $('workspace').hidden = false;
    $('sign-out').hidden = false;
    document.body.dataset.signedIn = 'true';
    if ($('term-error').textContent === t('ui.offline')) error('');
    renderSession();
    try {
      const [q, sv] = await Promise.all([api('GET', '/queues'), api('GET', '/services')]);
      state.services = (sv && sv.services) || [];
      renderQueues((q && q.queues) || []);
    } catch (e) {
      error(e.message);
    }
  }

  function renderSession() {
    const s = state.session;
    const ex = s.executive || {};
    $('who').textContent = t('ui.terminal.at_counter', { name: ex.name || ex.id || '', counter: s.counter });
    $('paused').hidden = !s.paused;
    $('paused').textContent = s.paused ? t('ui.terminal.paused', { reason: s.pause_reason || '' }) : '';
    const cur = s.current;
    $('current-ticket').hidden = !cur;
    $('cur-empty').hidden = !!cur;
    if (cur) {
      $('cur-number').textContent = cur.number;
      $('cur-service').textContent = cur.service_name || cur.service;
      $('cur-status').textContent = t('status.' + cur.status);
      $('cur-status').dataset.status = cur.status;
      $('cur-recalls').textContent = cur.recall ? t('ui.terminal.recalls', { n: cur.recall }) : '';
      document.body.dataset.current = cur.number;
      document.body.dataset.currentStatus = cur.status;
    } else {
      delete document.body.dataset.current;
      delete document.body.dataset.currentStatus;
    }
    const st = cur ? cur.status : '';
    const set = (id, enabled) => { $(id).disabled = !enabled || state.busy; };
    set('act-call', !s.paused && !cur);
    set('act-recall', st === 'called');
    set('act-start', st === 'called');
    set('act-complete', st === 'serving');
    set('act-noshow', st === 'called');
    set('act-transfer', st === 'called' || st === 'serving');
    set('act-requeue', st === 'called');
    $('act-pause').hidden = !!s.paused;
    $('act-resume').hidden = !s.paused;
    set('act-pause', !s.paused);
    set('act-resume', !!s.paused);
    tickTimer();
  }

  function tickTimer() {
    const cur = state.session && state.session.current;
    const since = cur && (cur.started_at || cur.called_at);
    $('cur-timer').textContent = since ? t('ui.terminal.elapsed', { time: TK.clock((Date.now() - Date.parse(since)) / 1000) }) : '';
  }
  setInterval(tickTimer, 1000);

  function renderQueues(queues) {
    const mine = new Set(((state.session && state.session.executive && state.session.executive.services) || []));
    const box = $('my-queues');
    box.textContent = '';
    let waiting = 0;
    queues.filter((q) => mine.size === 0 || mine.has(q.service)).forEach((q) => {
      waiting += q.waiting || 0;
      const list = el('ol', { class: 'ticket-list' });
      (q.tickets || []).slice(0, 12).forEach((tk) => {
        list.appendChild(el('li', { class: tk.priority && tk.priority !== 'normal' ? 'pref' : '', 'data-number': tk.number }, [
          el('span', { class: 'tl-number', text: tk.number }),
          tk.priority && tk.priority !== 'normal' ? el('span', { class: 'tl-pref', text: t('ui.kiosk.preferential_mark') }) : null,
          el('span', { class: 'tl-waited', text: t('ui.terminal.waited', { time: TK.clock(tk.waited_s || 0) }) }),
        ]));
      });
      box.appendChild(el('div', { class: 'queue', 'data-service': q.service }, [
        el('h3', {}, [q.name + ' · ', el('span', { class: 'q-count', text: t('ui.waiting_count', { n: q.waiting || 0 }) })]),
        el('p', { class: 'muted', text: t('ui.kiosk.service_wait', { range: waitRange(q.estimated_wait) }) }),
        list.childElementCount ? list : null,
      ]));
    });
    if (waiting === 0) box.appendChild(el('p', { class: 'muted', text: t('ui.terminal.nobody_waiting') }));
  }

  // act runs one action and refetches; errors show their problem title.
  async function act(fn) {
    if (state.busy) return;
    state.busy = true;
    error('');
    info('');
    try {
      await fn();
    } catch (e) {
      if (e.status === 401) { save(null, null); state.busy = false; showSignIn(t('ui.terminal.session_expired')); return; }
      error(e.message);
    } finally {
      state.busy = false;
    }
    await refresh();
  }
  const cur = () => state.session && state.session.current;
  const ticketAction = (action, payload) => act(() => authed('POST', '/tickets/' + encodeURIComponent(cur().id) + '/' + action, payload));

  $('act-call').addEventListener('click', () => act(async () => {
    const tk = await authed('POST', '/counters/' + state.counter + '/call-next');
    if (!tk) info(t('ui.terminal.nobody_waiting'));
  }));
  $('act-recall').addEventListener('click', () => ticketAction('recall'));
  $('act-start').addEventListener('click', () => ticketAction('start'));
  $('act-noshow').addEventListener('click', () => ticketAction('no-show'));
  $('act-requeue').addEventListener('click', () => ticketAction('requeue'));
  $('act-resume').addEventListener('click', () => act(() => authed('POST', '/sessions/current/resume')));
  $('act-complete').addEventListener('click', () => { $('outcome').value = ''; $('dlg-complete').showModal(); });
  $('act-pause').addEventListener('click', () => $('dlg-pause').showModal());
  $('act-transfer').addEventListener('click', () => {
    const sel = $('transfer-service');
    sel.textContent = '';
    state.services.filter((s) => !cur() || s.code !== cur().service).forEach((s) => {
      sel.appendChild(el('option', { value: s.code, text: s.name }));
    });
    $('dlg-transfer').showModal();
  });
  document.querySelectorAll('dialog [data-close]').forEach((b) => {
    b.addEventListener('click', () => b.closest('dialog').close());
  });
  $('form-complete').addEventListener('submit', () => {
    const outcome = $('outcome').value;
    ticketAction('complete', outcome ? { outcome: outcome } : {});
  });
  $('form-pause').addEventListener('submit', () => {
    act(() => authed('POST', '/sessions/current/pause', { reason: $('pause-reason').value }));
  });
  $('form-transfer').addEventListener('submit', () => {
    if (!$('transfer-service').value) return;
    ticketAction('transfer', {
      service: $('transfer-service').value, keep_arrival: $('transfer-keep').checked, first: $('transfer-first').checked,
    });
  });

  // Keyboard shortcuts, off while typing or with a dialog open.
  const shortcuts = {};
  document.querySelectorAll('[data-shortcut]').forEach((b) => { shortcuts[b.dataset.shortcut] = b; });
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName) || document.querySelector('dialog[open]')) return;
    if (!state.session) return;
    const key = ev.key.toLowerCase();
    let b = shortcuts[key];
    if (key === 'p' && state.session.paused) b = $('act-resume');
    if (b && !b.disabled && !b.hidden) { ev.preventDefault(); b.click(); }
  });

  const later = TK.debounce(refresh, 200);
  const start = saved();
  if (start && start.token) save(start.token, start.counter);
  TK.watchVersion(() => !state.busy && !document.querySelector('dialog[open]'));
  TK.loadBranchName();
  TK.live({
    onConnect: () => { TK.loadBranchName(); if (state.token) refresh(); else showSignIn(); },
    onEvent: () => { if (state.token) later(); },
    onState: (on) => { if (!on) error(t('ui.offline')); },
    onTick: () => { if (state.token) refresh(); },
    tickMs: 20000,
  });
  if (state.token) refresh(); else showSignIn();
})();
