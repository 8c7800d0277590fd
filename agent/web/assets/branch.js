// branch.js: the manager's page. Everything is refetched from the LAN API on
// stream events (coalesced), on reconnection and every 10 s. A branch manager
// signs in with his ID and PIN (the token stays in this tab only) and may then
// close or open a service for today, change an executive's services for today,
// sign out an executive who left, and put a message on the waiting-room TV.
(function () {
  'use strict';
  const { t, api, el, waitRange } = window.TK;
  const $ = (id) => document.getElementById(id);
  const min = (s) => (s === undefined || s === null ? t('ui.none') : TK.clock(s));
  const set = (id, v) => { $(id).textContent = v === undefined || v === null ? t('ui.none') : String(v); };
  const TOKEN_KEY = 'ticketero.manager';
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let lanUp = true;
  let lastSync = null;
  let services = [];
  let today = null;
  let execs = [];

  const auth = () => (token ? { token: token } : {});

  async function refresh() {
    const results = await Promise.allSettled([
      api('GET', '/queues?tickets=none'), api('GET', '/executives', undefined, auth()), api('GET', '/stats/today'),
      api('GET', '/sync'), api('GET', '/services'), token ? api('GET', '/manager/today', undefined, auth()) : Promise.resolve(null),
    ]);
    const [queues, ex, stats, sync, svcs, td] = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
    const mgrFailed = results[5].status === 'rejected' ? results[5].reason : null;
    if (mgrFailed && mgrFailed.status === 401) signedOut();
    const failed = results.slice(0, 5).find((r) => r.status === 'rejected');
    TK.showError($('branch-error'), failed ? failed.reason.message : '');
    const byService = {};
    ((stats && stats.by_service) || []).forEach((x) => { byService[x.service] = x; });
    if (queues) renderQueues(queues, byService);
    if (svcs) services = svcs.services || [];
    if (td) today = td;
    if (ex) { execs = ex.executives || []; renderExecutives(); }
    if (stats) renderStats(stats);
    if (sync) { lastSync = sync; renderLinks(); }
    renderManager();
    $('updated').textContent = t('ui.branch.updated', { time: TK.timeOfDay(null, true) });
    // Shown once filled: tables that grow after the first paint would push
    // the page about (layout shift).
    document.querySelector('main.branch-grid').setAttribute('aria-busy', 'false');
  }

  const pct = (v) => (v === undefined || v === null ? t('ui.none') : Number(v).toFixed(1) + ' %');

  // labelled gives every cell of a stacked table the header of its column
  // (shown before the value on a phone, where rows stack).
  function labelled(table, row) {
    const heads = Array.from(table.querySelectorAll('thead th')).map((h) => h.textContent);
    Array.from(row.children).forEach((c, i) => { if (heads[i]) c.dataset.label = heads[i]; });
    return row;
  }

  function renderQueues(data, byService) {
    if (data.day) $('day').textContent = t('ui.branch.day', { day: data.day });
    const body = $('queues');
    const table = body.closest('table');
    body.textContent = '';
    (data.queues || []).forEach((q) => {
      const late = q.target_wait_s && q.longest_wait_s > q.target_wait_s;
      body.appendChild(labelled(table, el('tr', { 'data-service': q.service, class: late ? 'late' : '' }, [
        el('th', { scope: 'row', text: q.service + ' · ' + q.name }),
        el('td', { class: 'num', text: String(q.waiting || 0) }),
        el('td', { class: 'num', text: min(q.longest_wait_s) }),
        el('td', { class: 'num', text: min(q.target_wait_s) }),
        el('td', { class: 'num', text: String(q.executives_serving || 0) }),
        el('td', { text: waitRange(q.estimated_wait) }),
        el('td', { class: 'num', text: String((byService[q.service] || {}).served || 0) }),
        el('td', { class: 'num', text: byService[q.service] && byService[q.service].decided ? pct(byService[q.service].sla_pct) : t('ui.none') }),
      ])));
    });
  }

  function renderExecutives() {
    const body = $('executives');
    const table = body.closest('table');
    const manager = !!token;
    document.querySelectorAll('.mgr-only').forEach((e) => { e.hidden = !manager; });
    body.textContent = '';
    execs.forEach((x) => {
      const stateKey = 'ui.branch.state_' + x.state;
      const svcText = (x.services || []).join(', ') + (x.changed_today ? ' (' + t('ui.manager.changed_today') + ')' : '');
      const cells = [
        el('th', { scope: 'row', text: x.id ? x.name + ' (' + x.id + ')' : x.name }),
        el('td', { text: svcText }),
        el('td', { class: 'num', text: x.counter ? String(x.counter) : t('ui.none') }),
        el('td', {}, [el('span', { class: 'state state-' + x.state, text: t(stateKey) === stateKey ? x.state : t(stateKey) })]),
      ];
      if (manager && x.id) {
        cells.push(el('td', { class: 'row-actions' }, [
          el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'services', text: t('ui.manager.change_services', { name: x.name }),
            onclick: () => openServices(x) }),
          x.counter ? el('button', { type: 'button', class: 'btn btn-small btn-warn', 'data-action': 'sign-out',
            text: t('ui.manager.sign_out_exec', { name: x.name }), onclick: () => confirmSignOut(x) }) : null,
        ]));
      } else if (manager) {
        cells.push(el('td', {}));
      }
      body.appendChild(labelled(table, el('tr', { 'data-executive': x.id || x.name, 'data-id': x.id || '' }, cells)));
    });
  }

  function renderStats(s) {
    set('f-issued', s.issued);
    set('f-served', s.served);
    set('f-waiting', s.waiting_over ? s.waiting + ' (' + t('ui.branch.waiting_over', { n: s.waiting_over }) + ')' : s.waiting);
    set('f-no_show', s.no_show);
    set('f-cancelled', s.cancelled);
    set('f-mean_wait', min(s.mean_wait_s));
    set('f-p90_wait', min(s.p90_wait_s));
    set('f-sla', s.decided ? pct(s.sla_pct) : t('ui.none'));
  }

  // whenOf is a time of day (24 h), with the date when it is not today.
  function whenOf(iso) {
    const d = new Date(iso);
    const time = TK.timeOfDay(iso);
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString(TK.lang === 'en' ? 'en-GB' : 'es-CL', { day: '2-digit', month: '2-digit' }) + ' ' + time;
  }

  // renderLinks tells the two links apart: this page's link to the branch
  // box (the LAN) and the box's link to headquarters (the WAN).
  function renderLinks() {
    const lan = $('lan-state');
    lan.textContent = lanUp ? t('ui.branch.lan_ok') : t('ui.branch.lan_down');
    lan.dataset.state = lanUp ? 'online' : 'offline';
    const s = lastSync;
    if (!s) return;
    const wan = $('wan-state');
    let detail = '';
    if (s.mode === 'standalone') {
      wan.textContent = t('ui.branch.wan_none');
      delete wan.dataset.state;
    } else {
      if (s.connected) wan.textContent = t('ui.branch.wan_ok');
      else {
        // Down since the link dropped (or, not seen since the agent started,
        // since its last delivery HQ confirmed).
        const since = s.since || s.last_ack_at;
        wan.textContent = since ? t('ui.branch.wan_down_since', { time: whenOf(since) }) : t('ui.branch.wan_down');
      }
      wan.dataset.state = s.connected ? 'online' : 'offline';
    }
    // Standalone, nothing is sent anywhere: no backlog to speak of.
    if (s.mode !== 'standalone') detail = s.backlog > 0 ? t('ui.branch.pending', { n: s.backlog }) : t('ui.branch.pending_none');
    if (s.mode !== 'standalone' && s.last_ack_at) detail += ' · ' + t('ui.branch.last_sent', { time: whenOf(s.last_ack_at) });
    $('wan-detail').textContent = detail;
  }

  // --- The manager -------------------------------------------------------

  function signedOut() {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    today = null;
    renderManager();
    renderExecutives();
  }

  function done(msg) {
    TK.showError($('mgr-error'), '');
    $('mgr-done').textContent = msg;
    $('mgr-done').hidden = !msg;
  }

  function failed(e) {
    if (e && e.status === 401) { signedOut(); TK.showError($('mgr-signin-error'), e.message); return; }
    $('mgr-done').hidden = true;
    TK.showError($('mgr-error'), e ? e.message : '');
  }

  function serviceName(code) {
    const s = services.find((x) => x.code === code);
    return s ? s.name : code;
  }

  function renderManager() {
    const on = !!token;
    $('mgr-signin').hidden = on;
    $('mgr-panel').hidden = !on;
    document.body.dataset.manager = on ? 'true' : 'false';
    if (!on) return;
    $('mgr-name').textContent = t('ui.manager.signed_in_as', { name: sessionStorage.getItem(TOKEN_KEY + '.name') || '' });
    const closed = (today && today.closed) || [];
    const list = $('mgr-services');
    list.textContent = '';
    services.forEach((s) => {
      const isClosed = closed.indexOf(s.code) >= 0;
      list.appendChild(el('li', { 'data-service': s.code, 'data-state': isClosed ? 'closed' : 'open' }, [
        el('span', { class: 'mgr-svc', text: s.name }),
        el('span', { class: 'state ' + (isClosed ? 'state-paused' : 'state-available'),
          text: isClosed ? t('ui.manager.service_closed') : t('ui.manager.service_open') }),
        el('button', { type: 'button', class: 'btn btn-small' + (isClosed ? '' : ' btn-warn'),
          text: t(isClosed ? 'ui.manager.open' : 'ui.manager.close', { name: s.name }),
          onclick: () => setService(s, isClosed) }),
      ]));
    });
    const m = today && today.message;
    $('mgr-message-now').textContent = m ? t('ui.manager.message_now', { time: TK.timeOfDay(m.until), text: m.text }) : t('ui.manager.message_none');
    $('mgr-message-remove').hidden = !m;
  }

  async function setService(s, open) {
    try {
      today = await api('POST', '/manager/services/' + encodeURIComponent(s.code) + (open ? '/open' : '/close'), {}, auth());
      done(t(open ? 'ui.manager.opened_done' : 'ui.manager.closed_done', { name: s.name }));
    } catch (e) { failed(e); }
    refresh();
  }

  let editing = null;
  function openServices(x) {
    editing = x;
    $('dlg-services-h').textContent = t('ui.manager.services_today', { name: x.name });
    const box = $('services-choices');
    box.querySelectorAll('label').forEach((l) => l.remove());
    services.forEach((s) => {
      box.appendChild(el('label', { class: 'check' }, [
        el('input', { type: 'checkbox', name: 'svc', value: s.code, checked: (x.services || []).indexOf(s.code) >= 0 }),
        s.code + ' · ' + s.name,
      ]));
    });
    $('dlg-services').showModal();
  }

  $('services-form').addEventListener('submit', async (ev) => {
    if (!ev.submitter || ev.submitter.value !== 'save' || !editing) return;
    const x = editing;
    const chosen = Array.from($('services-choices').querySelectorAll('input:checked')).map((i) => i.value);
    // His order of preference is kept for the services he keeps.
    const order = (x.services || []).filter((c) => chosen.indexOf(c) >= 0).concat(chosen.filter((c) => (x.services || []).indexOf(c) < 0));
    try {
      today = await api('PUT', '/manager/executives/' + encodeURIComponent(x.id) + '/services', { services: order }, auth());
      done(t('ui.manager.services_done', { name: x.name, services: order.map(serviceName).join(', ') }));
    } catch (e) { failed(e); }
    refresh();
  });

  function confirmSignOut(x) {
    editing = x;
    $('signout-text').textContent = t('ui.manager.sign_out_confirm', { name: x.name, counter: x.counter });
    $('dlg-signout').showModal();
  }

  $('dlg-signout').addEventListener('close', async () => {
    if ($('dlg-signout').returnValue !== 'yes' || !editing) return;
    const x = editing;
    $('dlg-signout').returnValue = '';
    try {
      today = await api('POST', '/manager/executives/' + encodeURIComponent(x.id) + '/sign-out', {}, auth());
      done(t('ui.manager.signed_out_done', { name: x.name }));
    } catch (e) { failed(e); }
    refresh();
  });

  $('mgr-signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    TK.showError($('mgr-signin-error'), '');
    const id = $('mgr-id').value.trim().toUpperCase();
    try {
      const s = await api('POST', '/manager/sessions', { executive: id, pin: $('mgr-pin').value });
      token = s.token;
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(TOKEN_KEY + '.name', s.name);
      $('mgr-pin').value = '';
      done('');
    } catch (e) {
      $('mgr-pin').value = '';
      TK.showError($('mgr-signin-error'), e.message);
      return;
    }
    refresh();
  });

  $('mgr-signout').addEventListener('click', async () => {
    try { await api('DELETE', '/manager/sessions/current', undefined, auth()); } catch (e) { /* gone already */ }
    signedOut();
    refresh();
  });

  [15, 30, 60, 120, 240, 480].forEach((n) => {
    const label = n < 60 ? t('ui.manager.minutes_n', { n: n }) : n === 60 ? t('ui.manager.hour_1') : t('ui.manager.hours_n', { n: n / 60 });
    $('mgr-minutes').appendChild(el('option', { value: String(n), text: label, selected: n === 60 }));
  });

  $('mgr-message-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      today = await api('PUT', '/manager/display-message', { text: $('mgr-message').value, minutes: Number($('mgr-minutes').value) }, auth());
      $('mgr-message').value = '';
      done(t('ui.manager.message_done', { time: TK.timeOfDay(today.message.until) }));
    } catch (e) { failed(e); }
    renderManager();
  });

  $('mgr-message-remove').addEventListener('click', async () => {
    try {
      today = await api('DELETE', '/manager/display-message', undefined, auth());
      done(t('ui.manager.removed_done'));
    } catch (e) { failed(e); }
    renderManager();
  });

  const later = TK.debounce(refresh, 500);
  TK.watchVersion();
  TK.loadBranchName();
  TK.live({
    onConnect: () => { refresh(); TK.loadBranchName(); },
    onEvent: later,
    onState: (on) => { lanUp = on; renderLinks(); },
    onTick: refresh,
    tickMs: 10000,
  });
  refresh();
})();
