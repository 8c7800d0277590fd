// terminal.js: the executive's counter. Session token in sessionStorage (this
// tab only); every action goes to the LAN API and the screen is refetched from
// it, never patched from the stream.
(function () {
  'use strict';
  const { t, api, el, waitRange } = window.TK;
  const $ = (id) => document.getElementById(id);
  const STORE = 'ticketero.terminal.session';

  const state = { token: null, counter: null, session: null, services: [], outcomes: [], busy: false, timer: null, pending: null };
  // The undo window of "No se presentó", transfers and cancels, in seconds
  // (10; a device's start URL may set ?undo_s=N, 1 to 30).
  const UNDO_S = (() => {
    const n = Number(new URLSearchParams(location.search).get('undo_s'));
    return n >= 1 && n <= 30 ? n : 10;
  })();

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
    renderScores();
    try {
      const [q, sv, oc] = await Promise.all([api('GET', '/queues'), api('GET', '/services'), api('GET', '/outcomes')]);
      state.services = (sv && sv.services) || [];
      state.outcomes = (oc && oc.outcomes) || [];
      renderQueues((q && q.queues) || []);
      await renderCustomer();
    } catch (e) {
      error(e.message);
    }
  }

  // renderScores shows the executive's own customer scores, as HQ last sent
  // them (none yet: nothing shown).
  async function renderScores() {
    const el = $('my-scores');
    try {
      const sc = await authed('GET', '/sessions/current/scores');
      el.textContent = t('ui.terminal.my_scores', { csat: Math.round(sc.csat_pct) + '\u00a0%', nps: Math.round(sc.nps), n: sc.answers, days: sc.days });
      el.hidden = false;
    } catch (e) {
      el.hidden = true;
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
      // A booked customer: his hour (docs/appointments.md).
      $('cur-appt').hidden = !cur.appointment;
      $('cur-appt').textContent = cur.appointment ? t('ui.terminal.appointment_at', { time: TK.timeOfDay(cur.due) }) : '';
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
    set('act-park', st === 'serving');
    set('act-walkin', !s.paused && !cur);
    renderParked(s);
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

  // The customer in front of him: name, masked RUT, priority, today's history.
  async function renderCustomer() {
    const cur = state.session && state.session.current;
    const box = $('customer');
    if (!cur) { box.hidden = true; return; }
    let c;
    try { c = await authed('GET', '/sessions/current/customer'); } catch (e) { box.hidden = true; return; }
    box.hidden = false;
    $('cust-name').textContent = c.name || '';
    $('cust-rut').textContent = c.rut_masked || t('ui.terminal.customer_anonymous');
    $('cust-priority').textContent = t('priority.' + (c.priority || 'normal'));
    $('cust-priority').dataset.priority = c.priority || 'normal';
    // A booked customer's note for the executive.
    const note = c.appointment_start ? (c.note ? t('ui.terminal.appointment_note', { note: c.note }) : t('ui.terminal.appointment_at', { time: TK.timeOfDay(c.appointment_start) })) : '';
    $('cust-note').textContent = note;
    $('cust-note').hidden = !note;
    const ol = $('cust-history');
    ol.textContent = '';
    (c.history || []).forEach((h) => {
      const key = 'ui.terminal.ev.' + h.type;
      const label = t(key) === key ? h.type : t(key);
      ol.appendChild(el('li', { 'data-type': h.type }, [
        el('span', { class: 'h-time', text: TK.timeOfDay(h.at) }), ' ',
        el('span', { class: 'h-type', text: label }),
        h.counter ? ' · ' + t('ui.terminal.counter_n', { n: h.counter }) : null,
        h.detail ? el('span', { class: 'h-detail muted', text: ' · ' + h.detail }) : null,
      ]));
    });
  }

  // renderParked lists the visits he set aside, each to call back or cancel.
  function renderParked(s) {
    const list = $('parked-list');
    list.textContent = '';
    const parked = s.parked || [];
    $('parked-box').hidden = parked.length === 0;
    const free = !s.paused && !s.current && !state.busy;
    parked.forEach((p) => {
      list.appendChild(el('li', { 'data-number': p.number }, [
        el('span', { class: 'tl-number', text: p.number }),
        el('button', { type: 'button', class: 'btn btn-primary btn-small unpark', disabled: !free,
          text: t('ui.terminal.unpark', { number: p.number }),
          onclick: () => act(() => authed('POST', '/tickets/' + encodeURIComponent(p.id) + '/unpark')) }),
        el('button', { type: 'button', class: 'btn btn-warn btn-small cancel', disabled: state.busy,
          text: t('ui.terminal.cancel_ticket'),
          onclick: () => later('cancel', p, '/tickets/' + encodeURIComponent(p.id) + '/cancel', undefined, {}) }),
      ]));
    });
  }

  function renderQueues(queues) {
    const mine = new Set(((state.session && state.session.executive && state.session.executive.services) || []));
    const box = $('my-queues');
    box.textContent = '';
    let waiting = 0;
    const s0 = state.session || {};
    const me = (s0.executive && s0.executive.name) || '';
    // A ticket sent to another counter or executive is theirs to call; one
    // sent to him shows even in a queue he does not serve.
    const forMe = (tk) => (tk.target_counter && tk.target_counter === s0.counter) || (tk.target_name && tk.target_name === me);
    const elsewhere = (tk) => (tk.target_counter || tk.target_name) && !forMe(tk);
    queues.filter((q) => mine.size === 0 || mine.has(q.service) || (q.tickets || []).some(forMe)).forEach((q) => {
      waiting += q.waiting || 0;
      const list = el('ol', { class: 'ticket-list' });
      (q.tickets || []).slice(0, 12).forEach((tk) => {
        const s = state.session || {};
        const cls = [tk.priority && tk.priority !== 'normal' ? 'pref' : '', tk.appointment ? 'appt' : '', tk.unchecked ? 'absent' : ''].filter(Boolean).join(' ');
        list.appendChild(el('li', { class: cls, 'data-number': tk.number }, [
          el('span', { class: 'tl-number', text: tk.number }),
          tk.priority && tk.priority !== 'normal' ? el('span', { class: 'tl-pref', text: t('ui.kiosk.preferential_mark') }) : null,
          tk.appointment ? el('span', { class: 'tl-appt', text: t('ui.appointment_mark') }) : null,
          // A number taken from the phone: never called until he checks in.
          tk.unchecked ? el('span', { class: 'tl-absent', text: t('ui.terminal.not_here') })
            : el('span', { class: 'tl-waited', text: t('ui.terminal.waited', { time: TK.clock(tk.waited_s || 0) }) }),
          tk.target_counter || tk.target_name ? el('span', { class: 'tl-target', text: '→ ' + (tk.target_name || t('ui.terminal.counter_n', { n: tk.target_counter })) }) : null,
          el('button', { type: 'button', class: 'btn btn-small call-this', disabled: !!(s.paused || s.current || elsewhere(tk) || tk.unchecked),
            'aria-label': t('ui.terminal.call_specific', { number: tk.number }), text: t('ui.terminal.call_this'),
            onclick: () => openCall(tk) }),
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

  // act runs one action and refetches; errors show their problem title. An
  // action waiting in its undo window is sent first.
  async function act(fn) {
    if (state.pending) await commitPending();
    return run(fn);
  }
  // run is act without sending the pending action first.
  async function run(fn) {
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
  // The undo window's texts: while pending, once sent.
  const UNDO_TEXT = {
    no_show: ['ui.terminal.pending_no_show', 'ui.terminal.done_no_show'],
    transfer: ['ui.terminal.pending_transfer', 'ui.terminal.done_transfer'],
    cancel: ['ui.terminal.pending_cancel', 'ui.terminal.done_cancel'],
  };
  // later holds an action (no-show, transfer, cancel) for UNDO_S seconds,
  // saying what will happen; "Deshacer" drops it, "Confirmar" or any other
  // action sends it at once. Nothing reaches the branch before that.
  function later(kind, tk, path, payload, vars) {
    if (state.pending) commitPending();
    const p = { kind: kind, number: tk.number, path: path, payload: payload, vars: vars, left: UNDO_S, timer: null };
    state.pending = p;
    const show = () => {
      $('undo-text').textContent = t(UNDO_TEXT[kind][0], Object.assign({ number: p.number, s: p.left }, p.vars));
    };
    show();
    $('undo-bar').hidden = false;
    document.body.dataset.pending = kind;
    p.timer = setInterval(() => {
      p.left -= 1;
      if (p.left <= 0) { commitPending(); return; }
      show();
    }, 1000);
  }
  function clearPending() {
    const p = state.pending;
    if (p) clearInterval(p.timer);
    state.pending = null;
    $('undo-bar').hidden = true;
    delete document.body.dataset.pending;
    return p;
  }
  async function commitPending() {
    // Another action still running: send it right after, never drop it.
    if (state.busy && state.pending) { clearInterval(state.pending.timer); setTimeout(commitPending, 200); return; }
    const p = clearPending();
    if (!p) return;
    await run(async () => {
      await authed('POST', p.path, p.payload);
      info(t(UNDO_TEXT[p.kind][1], Object.assign({ number: p.number }, p.vars)));
    });
  }
  $('undo-btn').addEventListener('click', () => {
    const p = clearPending();
    if (p) info(t('ui.terminal.undone', { number: p.number }));
  });
  $('undo-now').addEventListener('click', () => commitPending());
  window.addEventListener('pagehide', () => {
    const p = state.pending;
    if (!p) return;
    clearPending();
    // The page goes away inside the window: the executive meant it.
    fetch('/api/v1' + p.path, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json',
      'Authorization': 'Bearer ' + state.token }, body: JSON.stringify(p.payload || {}) });
  });

  function openCall(tk) {
    $('h-dlg-call').textContent = t('ui.terminal.call_specific', { number: tk.number });
    $('call-reason').value = '';
    $('form-call').dataset.ticket = tk.id;
    $('dlg-call').showModal();
  }
  $('form-call').addEventListener('submit', () => {
    const id = $('form-call').dataset.ticket;
    const reason = $('call-reason').value.trim();
    act(() => authed('POST', '/tickets/' + encodeURIComponent(id) + '/call', { counter: state.counter, reason: reason }));
  });

  $('act-recall').addEventListener('click', () => ticketAction('recall'));
  $('act-start').addEventListener('click', () => ticketAction('start'));
  $('act-park').addEventListener('click', () => ticketAction('park'));
  $('act-noshow').addEventListener('click', () => {
    const c = cur();
    if (c) later('no_show', c, '/tickets/' + encodeURIComponent(c.id) + '/no-show', undefined, {});
  });
  $('act-walkin').addEventListener('click', () => {
    const sel = $('walkin-service');
    sel.textContent = '';
    const mine = new Set(((state.session && state.session.executive && state.session.executive.services) || []));
    state.services.slice().sort((a, b) => (mine.has(b.code) ? 1 : 0) - (mine.has(a.code) ? 1 : 0)).forEach((s) => {
      sel.appendChild(el('option', { value: s.code, text: s.name }));
    });
    $('walkin-rut').value = '';
    $('walkin-name').value = '';
    $('walkin-priority').value = 'normal';
    $('dlg-walkin').showModal();
  });
  $('form-walkin').addEventListener('submit', () => {
    const body = { service: $('walkin-service').value, priority: $('walkin-priority').value };
    if ($('walkin-rut').value.trim()) body.rut = $('walkin-rut').value.trim();
    if ($('walkin-name').value.trim()) body.name = $('walkin-name').value.trim();
    act(() => authed('POST', '/counters/' + state.counter + '/walk-in', body));
  });
  $('act-requeue').addEventListener('click', () => ticketAction('requeue'));
  $('act-resume').addEventListener('click', () => act(() => authed('POST', '/sessions/current/resume')));
  $('act-complete').addEventListener('click', () => {
    $('outcome').value = '';
    const box = $('outcomes-list');
    box.textContent = '';
    state.outcomes.forEach((o) => {
      box.appendChild(el('label', { class: 'check' }, [el('input', { type: 'checkbox', value: o.code, name: 'outcome' }), ' ' + o.name]));
    });
    // HQ's list when it set one; else the generic choice.
    $('outcomes-box').hidden = state.outcomes.length === 0;
    $('outcome-free').hidden = state.outcomes.length > 0;
    $('dlg-complete').showModal();
  });
  $('act-pause').addEventListener('click', () => $('dlg-pause').showModal());
  function transferKind() {
    const k = document.querySelector('input[name=transfer-kind]:checked').value;
    document.querySelectorAll('#form-transfer .tk-counter').forEach((e) => { e.hidden = k !== 'counter'; });
    document.querySelectorAll('#form-transfer .tk-executive').forEach((e) => { e.hidden = k !== 'executive'; });
    // To a service: another one. To a counter or an executive: any (its own by default).
    const sel = $('transfer-service');
    const keep = sel.value;
    sel.textContent = '';
    state.services.filter((s) => k !== 'service' || !cur() || s.code !== cur().service).forEach((s) => {
      sel.appendChild(el('option', { value: s.code, text: s.name }));
    });
    if (k !== 'service' && cur()) sel.value = cur().service;
    else if (keep) sel.value = keep;
    if (!sel.value && sel.options.length) sel.selectedIndex = 0;
  }
  document.querySelectorAll('input[name=transfer-kind]').forEach((r) => r.addEventListener('change', transferKind));
  $('act-transfer').addEventListener('click', async () => {
    $('tk-service').checked = true;
    $('transfer-keep').checked = true;
    $('transfer-service').textContent = '';
    transferKind();
    try {
      const [co, ex] = await Promise.all([api('GET', '/counters'), authed('GET', '/executives')]);
      const cs = $('transfer-counter');
      cs.textContent = '';
      ((co && co.counters) || []).filter((c) => c.taken && c.number !== state.counter).forEach((c) => {
        cs.appendChild(el('option', { value: String(c.number), text: (c.name || t('ui.terminal.counter_n', { n: c.number })) + (c.executive_name ? ' · ' + c.executive_name : '') }));
      });
      const es = $('transfer-executive');
      es.textContent = '';
      const me = state.session && state.session.executive && state.session.executive.id;
      ((ex && ex.executives) || []).filter((x) => x.id && x.id !== me && x.state !== 'offline').forEach((x) => {
        es.appendChild(el('option', { value: x.id, text: x.name + (x.counter ? ' · ' + t('ui.terminal.counter_n', { n: x.counter }) : '') }));
      });
    } catch (e) {
      error(e.message);
    }
    $('dlg-transfer').showModal();
  });
  document.querySelectorAll('dialog [data-close]').forEach((b) => {
    b.addEventListener('click', () => b.closest('dialog').close());
  });
  $('form-complete').addEventListener('submit', () => {
    if (state.outcomes.length) {
      const codes = [...document.querySelectorAll('#outcomes-list input:checked')].map((i) => i.value);
      ticketAction('complete', codes.length ? { outcomes: codes } : {});
      return;
    }
    const outcome = $('outcome').value;
    ticketAction('complete', outcome ? { outcome: outcome } : {});
  });
  $('form-pause').addEventListener('submit', () => {
    act(() => authed('POST', '/sessions/current/pause', { code: $('pause-reason').value }));
  });
  $('form-transfer').addEventListener('submit', () => {
    const c = cur();
    if (!c || !$('transfer-service').value) return;
    const k = document.querySelector('input[name=transfer-kind]:checked').value;
    const body = { service: $('transfer-service').value, keep_arrival: $('transfer-keep').checked, first: $('transfer-first').checked };
    const svc = state.services.find((s) => s.code === body.service);
    let to = svc ? svc.name : body.service;
    if (k === 'counter') {
      if (!$('transfer-counter').value) return;
      body.counter = Number($('transfer-counter').value);
      to = t('ui.terminal.counter_n', { n: body.counter });
    } else if (k === 'executive') {
      if (!$('transfer-executive').value) return;
      body.executive = $('transfer-executive').value;
      to = $('transfer-executive').selectedOptions[0].text;
    }
    later('transfer', c, '/tickets/' + encodeURIComponent(c.id) + '/transfer', body, { to: to });
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

  const soon = TK.debounce(refresh, 200);
  const start = saved();
  if (start && start.token) save(start.token, start.counter);
  TK.watchVersion(() => !state.busy && !state.pending && !document.querySelector('dialog[open]'));
  TK.loadBranchName();
  TK.live({
    onConnect: () => { TK.loadBranchName(); if (state.token) refresh(); else showSignIn(); },
    onEvent: () => { if (state.token) soon(); },
    onState: (on) => { if (!on) error(t('ui.offline')); },
    onTick: () => { if (state.token) refresh(); },
    tickMs: 20000,
  });
  if (state.token) refresh(); else showSignIn();
})();
