// branch.js: the manager's page. Everything is refetched from the LAN API on
// stream events (coalesced), on reconnection and every 10 s.
(function () {
  'use strict';
  const { t, api, el, waitRange } = window.TK;
  const $ = (id) => document.getElementById(id);
  const min = (s) => (s === undefined || s === null ? t('ui.none') : TK.clock(s));
  const set = (id, v) => { $(id).textContent = v === undefined || v === null ? t('ui.none') : String(v); };

  async function refresh() {
    const results = await Promise.allSettled([
      api('GET', '/queues?tickets=none'), api('GET', '/executives'), api('GET', '/stats/today'), api('GET', '/sync'),
    ]);
    const failed = results.find((r) => r.status === 'rejected');
    TK.showError($('branch-error'), failed ? failed.reason.message : '');
    const [queues, execs, stats, sync] = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
    const byService = {};
    ((stats && stats.by_service) || []).forEach((x) => { byService[x.service] = x; });
    if (queues) renderQueues(queues, byService);
    if (execs) renderExecutives(execs.executives || []);
    if (stats) renderStats(stats);
    if (sync) renderSync(sync);
    $('updated').textContent = t('ui.branch.updated', { time: TK.timeOfDay(null, true) });
    // Shown once filled: tables that grow after the first paint would push
    // the page about (layout shift).
    document.querySelector('main.branch-grid').setAttribute('aria-busy', 'false');
  }

  const pct = (v) => (v === undefined || v === null ? t('ui.none') : Number(v).toFixed(1) + ' %');

  function renderQueues(data, byService) {
    if (data.day) $('day').textContent = t('ui.branch.day', { day: data.day });
    const body = $('queues');
    body.textContent = '';
    (data.queues || []).forEach((q) => {
      const late = q.target_wait_s && q.longest_wait_s > q.target_wait_s;
      body.appendChild(el('tr', { 'data-service': q.service, class: late ? 'late' : '' }, [
        el('th', { scope: 'row', text: q.service + ' · ' + q.name }),
        el('td', { class: 'num', text: String(q.waiting || 0) }),
        el('td', { class: 'num', text: min(q.longest_wait_s) }),
        el('td', { class: 'num', text: min(q.target_wait_s) }),
        el('td', { class: 'num', text: String(q.executives_serving || 0) }),
        el('td', { text: waitRange(q.estimated_wait) }),
        el('td', { class: 'num', text: String((byService[q.service] || {}).served || 0) }),
        el('td', { class: 'num', text: byService[q.service] && byService[q.service].decided ? pct(byService[q.service].sla_pct) : t('ui.none') }),
      ]));
    });
  }

  function renderExecutives(list) {
    const body = $('executives');
    body.textContent = '';
    list.forEach((x) => {
      const stateKey = 'ui.branch.state_' + x.state;
      body.appendChild(el('tr', { 'data-executive': x.id || x.name }, [
        el('th', { scope: 'row', text: x.id ? x.name + ' (' + x.id + ')' : x.name }),
        el('td', { text: (x.services || []).join(', ') }),
        el('td', { class: 'num', text: x.counter ? String(x.counter) : t('ui.none') }),
        el('td', {}, [el('span', { class: 'state state-' + x.state, text: t(stateKey) === stateKey ? x.state : t(stateKey) })]),
      ]));
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

  function renderSync(s) {
    set('s-mode', s.mode === 'mqtt' ? t('ui.branch.mode_mqtt') : t('ui.branch.mode_standalone'));
    const c = $('s-connected');
    if (s.mode === 'mqtt') {
      c.textContent = s.connected ? t('ui.branch.connected_yes') : t('ui.branch.connected_no');
      c.dataset.state = s.connected ? 'online' : 'offline';
    } else {
      c.textContent = t('ui.none'); // standalone: no link to be up or down
      delete c.dataset.state;
    }
    set('s-backlog', s.backlog);
    set('s-last_ack', s.last_ack_at ? new Date(s.last_ack_at).toLocaleString(TK.lang === 'en' ? 'en-US' : 'es-CL') : t('ui.branch.last_ack_never'));
    set('s-lag', s.lag_s === undefined || s.lag_s === null ? null : TK.clock(s.lag_s));
  }

  const later = TK.debounce(refresh, 500);
  TK.watchVersion();
  TK.loadBranchName();
  TK.live({ onConnect: () => { refresh(); TK.loadBranchName(); }, onEvent: later, onTick: refresh, tickMs: 10000 });
  refresh();
})();
