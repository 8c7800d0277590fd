// kiosk.js: service → optional RUT → attention type → ticket, with a printable
// 80 mm layout, then back to the start; or "Tengo hora agendada": RUT or
// booking code → the booked customer's ticket (or a phone ticket checked in).
(function () {
  'use strict';
  const { t, api, el, waitRange } = window.TK;
  const $ = (id) => document.getElementById(id);
  // The result screen returns to the start after RESULT_SECONDS; a kiosk may
  // set its own with ?return=N in its start URL (5 to 300 s).
  const RESULT_SECONDS = (() => {
    const n = Number(new URLSearchParams(location.search).get('return'));
    return Number.isInteger(n) && n >= 2 && n <= 300 ? n : 20;
  })();
  // ?print=auto prints every ticket on issue (a kiosk browser started with
  // --kiosk-printing sends it to the thermal printer without a dialog).
  const AUTO_PRINT = new URLSearchParams(location.search).get('print') === 'auto';
  const IDLE_SECONDS = 60; // an abandoned half-way choice returns to the start
  const RETRY_FOR_MS = 120000; // keep retrying an issue this long (agent restart)

  // error is a refusal's message, kept on the start screen across the service
  // refresh that follows it (the branch closed, a service's last ticket).
  const state = { service: null, rut: '', phone: '', consent: false, priority: 'normal', busy: false, branch: null, error: '' };
  // The phone screen shows only when the agent offers SMS (--kiosk-sms on).
  const SMS = $('screen-phone') && $('screen-phone').dataset.sms === 'on';
  let countdown = null;
  let idleTimer = null;
  // Estimates shown are damped per service, so two customers a minute apart
  // do not read wildly different waits.
  const smooth = TK.smoother();

  function show(screen) {
    document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== 'screen-' + screen; });
    state.screen = screen;
    armIdle();
    const h = document.querySelector('#screen-' + screen + ' h2');
    if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
  }

  function armIdle() {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (state.screen === 'rut' || state.screen === 'phone' || state.screen === 'priority' || state.screen === 'checkin') {
      idleTimer = setTimeout(goHome, IDLE_SECONDS * 1000);
    }
  }

  // A customer may tap the other language; the kiosk's own (its start URL's
  // ?lang, Spanish without it) is back for the next one. The link keeps the
  // kiosk's settings (?return, ?print) and notes the language it left in
  // ?was=, which goHome restores when the visit ends.
  const params = new URLSearchParams(location.search);
  document.querySelectorAll('a.lang').forEach((a) => {
    const next = new URLSearchParams(location.search);
    next.set('lang', new URL(a.href, location.href).searchParams.get('lang') || '');
    if (!params.has('was')) next.set('was', params.get('lang') || '');
    a.href = location.pathname + '?' + next.toString();
  });

  // goHome ends a visit: the start screen, in the kiosk's own language.
  function goHome() {
    if (!params.has('was')) { reset(); return; }
    const back = new URLSearchParams(location.search);
    const was = back.get('was');
    back.delete('was');
    if (was) back.set('lang', was); else back.delete('lang');
    const q = back.toString();
    location.replace(location.pathname + (q ? '?' + q : ''));
  }

  function reset() {
    if (countdown) clearInterval(countdown);
    countdown = null;
    state.service = null;
    state.rut = '';
    state.phone = '';
    state.consent = false;
    state.priority = 'normal';
    state.busy = false;
    state.error = '';
    TK.showError($('kiosk-error'), '');
    show('services');
    refreshServices();
  }

  async function refreshServices() {
    let data;
    try {
      data = await api('GET', '/services');
    } catch (e) {
      if (!$('services').querySelector('button')) TK.showError($('kiosk-error'), e.message);
      return;
    }
    if (state.screen === 'services') TK.showError($('kiosk-error'), state.error);
    renderServices((data && data.services) || []);
  }

  // showClosed says why no ticket can be issued when every service is closed
  // (outside opening hours, a holiday): the agent's own Spanish message with
  // when it opens.
  function showClosed(services) {
    const closed = services.filter((s) => s.open === false);
    const all = services.length > 0 && closed.length === services.length;
    const box = $('kiosk-closed');
    // The branch's own reason (closed, holiday) over a service's cut-off.
    const why = closed.find((s) => s.closed && s.closed.code.startsWith('branch.')) || closed[0];
    box.textContent = all ? ((why && why.closed && why.closed.detail) || t('ui.kiosk.closed')) : '';
    box.hidden = !all;
  }

  // renderServices redraws the choices only when what they say changed: a
  // refresh that changes nothing must not swap the button under a finger.
  let shownServices = '';
  function renderServices(services) {
    const box = $('services');
    const ranges = {};
    services.forEach((s) => { ranges[s.code] = waitRange(smooth(s.code, s.estimated_wait)); });
    const sig = JSON.stringify(services.map((s) => [s.code, s.name, s.open, s.closed && s.closed.detail, s.waiting, ranges[s.code]]));
    if (sig === shownServices && box.querySelector('button')) return;
    shownServices = sig;
    box.textContent = '';
    if (services.length === 0) {
      box.appendChild(el('p', { class: 'lead', text: t('ui.kiosk.no_services') }));
      return;
    }
    showClosed(services);
    services.forEach((s) => {
      const range = ranges[s.code];
      const waiting = t('ui.waiting_count', { n: s.waiting || 0 });
      if (s.open === false) {
        const why = (s.closed && s.closed.detail) || t('ui.kiosk.closed');
        box.appendChild(el('button', {
          type: 'button', class: 'service-btn closed', 'data-service': s.code, disabled: true, title: why,
        }, [
          el('span', { class: 'service-letter', 'aria-hidden': 'true', text: s.code }),
          el('span', { class: 'service-name', text: s.name }),
          el('span', { class: 'service-wait', text: t(s.closed && (s.closed.code === 'service.closed_for_today' || s.closed.code === 'service.closed_by_manager') ? 'ui.kiosk.service_closed' : 'ui.kiosk.closed_short') }),
        ]));
        return;
      }
      box.appendChild(el('button', {
        // The accessible name is the visible text (name, wait, count), so
        // speech input hears what it sees (axe label-content-name-mismatch).
        type: 'button', class: 'service-btn', 'data-service': s.code,
        onclick: () => chooseService(s),
      }, [
        el('span', { class: 'service-letter', 'aria-hidden': 'true', text: s.code }),
        el('span', { class: 'service-name', text: s.name }),
        el('span', { class: 'service-wait', text: t('ui.kiosk.service_wait', { range: range }) }),
        el('span', { class: 'service-count', text: waiting }),
      ]));
    });
  }

  function chooseService(s) {
    state.service = s;
    state.rut = '';
    renderRut();
    show('rut');
  }

  // RUT keypad with live validation.
  function renderRut() {
    const input = $('rut-input');
    input.value = TK.rutFormat(state.rut);
    const st = TK.rutState(state.rut);
    const status = $('rut-status');
    status.dataset.state = st;
    status.textContent = st === 'valid' ? t('ui.kiosk.rut_valid')
      : st === 'invalid' ? t('ui.kiosk.rut_invalid')
      : st === 'incomplete' ? t('ui.kiosk.rut_incomplete') : '';
    input.setAttribute('aria-invalid', st === 'invalid' ? 'true' : 'false');
    $('rut-continue').disabled = st !== 'valid';
  }

  function rutKey(k) {
    armIdle();
    if (k === 'del') state.rut = state.rut.slice(0, -1);
    else if (state.rut.length < 9) state.rut += k;
    renderRut();
  }

  document.querySelectorAll('.keypad .key[data-key]').forEach((b) => {
    b.addEventListener('click', () => rutKey(b.dataset.key));
  });
  $('rut-input').addEventListener('input', (e) => {
    state.rut = e.target.value.toUpperCase().replace(/[^0-9K]/g, '').slice(0, 9);
    renderRut();
  });
  $('rut-clear').addEventListener('click', () => { state.rut = ''; renderRut(); });
  $('rut-back').addEventListener('click', reset);
  // afterRut goes on to the optional mobile number (when SMS is offered),
  // then the attention type.
  function afterRut() {
    if (SMS) { renderPhone(); show('phone'); } else show('priority');
  }
  $('rut-skip').addEventListener('click', () => { state.rut = ''; afterRut(); });
  $('rut-continue').addEventListener('click', () => {
    if (TK.rutState(state.rut) === 'valid') afterRut();
  });
  $('priority-back').addEventListener('click', () => {
    if (SMS) { renderPhone(); show('phone'); } else { renderRut(); show('rut'); }
  });

  // Mobile number: +56 9 and 8 digits typed on the keypad, with consent.
  function phoneText() {
    const d = state.phone;
    return '+56 9 ' + d.slice(0, 4) + (d.length > 4 ? ' ' + d.slice(4) : '');
  }
  function renderPhone() {
    if (!SMS) return;
    $('phone-input').value = state.phone ? phoneText() : '';
    const ok = state.phone.length === 8;
    const status = $('phone-status');
    status.dataset.state = ok ? 'valid' : (state.phone ? 'incomplete' : '');
    status.textContent = '';
    $('phone-consent').checked = state.consent;
    $('phone-continue').disabled = !(ok && state.consent);
  }
  if (SMS) {
    document.querySelectorAll('.pkey').forEach((b) => {
      b.addEventListener('click', () => {
        armIdle();
        const k = b.dataset.pkey;
        if (k === 'del') state.phone = state.phone.slice(0, -1);
        else if (state.phone.length < 8) state.phone += k;
        renderPhone();
      });
    });
    $('phone-consent').addEventListener('change', (e) => { state.consent = e.target.checked; renderPhone(); });
    $('phone-skip').addEventListener('click', () => { state.phone = ''; state.consent = false; show('priority'); });
    $('phone-continue').addEventListener('click', () => {
      if (state.phone.length === 8 && state.consent) show('priority');
    });
    $('phone-back').addEventListener('click', () => { renderRut(); show('rut'); });
  }
  document.querySelectorAll('[data-priority]').forEach((b) => {
    b.addEventListener('click', () => { state.priority = b.dataset.priority; issue(); });
  });

  // Check-in: "Tengo hora agendada", by RUT (live check digit) or by the
  // booking's 6-digit code; the agent answers with his ticket.
  const checkin = { mode: 'rut', value: '' };
  function renderCheckin() {
    const rut = checkin.mode === 'rut';
    document.querySelectorAll('.checkin-mode').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === checkin.mode)));
    $('checkin-label').textContent = $('checkin-label').dataset[checkin.mode];
    $('checkin-hint').textContent = $('checkin-hint').dataset[checkin.mode];
    $('checkin-hint').hidden = false;
    $('checkin-k').hidden = !rut;
    const input = $('checkin-input');
    input.placeholder = rut ? '12.345.678-5' : '123456';
    input.value = rut ? TK.rutFormat(checkin.value) : checkin.value;
    let ok;
    const status = $('checkin-status');
    if (rut) {
      const st = TK.rutState(checkin.value);
      ok = st === 'valid';
      status.dataset.state = st;
      status.textContent = st === 'valid' ? t('ui.kiosk.rut_valid') : st === 'invalid' ? t('ui.kiosk.rut_invalid')
        : st === 'incomplete' ? t('ui.kiosk.rut_incomplete') : '';
      input.setAttribute('aria-invalid', st === 'invalid' ? 'true' : 'false');
    } else {
      ok = /^[0-9]{6}$/.test(checkin.value);
      status.dataset.state = ok ? 'valid' : '';
      status.textContent = '';
      input.setAttribute('aria-invalid', 'false');
    }
    $('checkin-submit').disabled = !ok || state.busy;
  }
  function startCheckin() {
    checkin.mode = 'rut';
    checkin.value = '';
    TK.showError($('kiosk-error'), '');
    renderCheckin();
    show('checkin');
  }
  $('checkin-start').addEventListener('click', startCheckin);
  $('checkin-back').addEventListener('click', reset);
  document.querySelectorAll('.checkin-mode').forEach((b) => {
    b.addEventListener('click', () => { checkin.mode = b.dataset.mode; checkin.value = ''; renderCheckin(); });
  });
  document.querySelectorAll('.ckey').forEach((b) => {
    b.addEventListener('click', () => {
      armIdle();
      const k = b.dataset.ckey;
      const maxLen = checkin.mode === 'rut' ? 9 : 6;
      if (k === 'del') checkin.value = checkin.value.slice(0, -1);
      else if (checkin.value.length < maxLen && (checkin.mode === 'rut' || k !== 'K')) checkin.value += k;
      renderCheckin();
    });
  });
  $('checkin-input').addEventListener('input', (e) => {
    const raw = e.target.value.toUpperCase();
    checkin.value = checkin.mode === 'rut' ? raw.replace(/[^0-9K]/g, '').slice(0, 9) : raw.replace(/[^0-9]/g, '').slice(0, 6);
    renderCheckin();
  });
  $('checkin-submit').addEventListener('click', async () => {
    if (state.busy || $('checkin-submit').disabled) return;
    state.busy = true;
    renderCheckin();
    const body = checkin.mode === 'rut' ? { rut: TK.rutFormat(checkin.value) } : { code: checkin.value };
    $('checkin-status').dataset.state = '';
    $('checkin-status').textContent = t('ui.kiosk.checkin_busy');
    try {
      const r = await api('POST', '/check-ins', body, { timeoutMs: 8000 });
      state.busy = false;
      state.service = null;
      state.priority = 'normal';
      showResult(r.ticket, r);
    } catch (e) {
      state.busy = false;
      renderCheckin();
      // The refusal takes the hint's place (the screen must not scroll).
      $('checkin-hint').hidden = true;
      $('checkin-status').dataset.state = 'invalid';
      $('checkin-status').textContent = e.message;
    }
  });

  // issue asks for the ticket. One Idempotency-Key per attempt, kept across
  // every retry, so a request that reached the agent before it restarted is
  // answered with the same ticket and never doubled.
  async function issue() {
    if (state.busy || !state.service) return;
    state.busy = true;
    show('issuing');
    $('issuing-status').textContent = '';
    const key = TK.uuid();
    const body = { service: state.service.code, priority: state.priority };
    if (state.rut) body.rut = TK.rutFormat(state.rut);
    if (state.phone && state.consent) { body.phone = '+569' + state.phone; body.phone_consent = true; }
    const started = Date.now();
    let attempt = 0;
    let wait = 500;
    for (;;) {
      attempt++;
      try {
        const ticket = await api('POST', '/tickets', body, { idempotencyKey: key, timeoutMs: 8000 });
        state.busy = false;
        showResult(ticket);
        return;
      } catch (e) {
        if ((e.network || e.status >= 500) && Date.now() - started < RETRY_FOR_MS) {
          $('issuing-status').textContent = t('ui.kiosk.retrying', { n: attempt });
          await TK.sleep(wait);
          wait = Math.min(wait * 2, 4000);
          continue;
        }
        state.busy = false;
        if (String(e.code).startsWith('phone.') && SMS) {
          show('phone');
          renderPhone();
          $('phone-status').textContent = e.message;
          $('phone-status').dataset.state = 'invalid';
          return;
        }
        if (String(e.code).startsWith('rut.')) {
          show('rut');
          renderRut();
          $('rut-status').textContent = e.message;
          $('rut-status').dataset.state = 'invalid';
          return;
        }
        reset();
        state.error = e.message;
        TK.showError($('kiosk-error'), e.message);
        return;
      }
    }
  }

  // showResult shows the ticket; checkin is the check-in's answer, if it
  // came from "Tengo hora agendada".
  function showResult(ticket, checkin) {
    const position = t('ui.kiosk.position', { n: Math.max(0, (ticket.position || 1) - 1) });
    const estimate = t('ui.kiosk.estimate', { range: waitRange(smooth(ticket.service, ticket.estimated_wait)) });
    const service = ticket.service_name || (state.service && state.service.name) || ticket.service;
    const pref = ticket.priority && ticket.priority !== 'normal';
    $('result-number').textContent = ticket.number;
    $('result-service').textContent = service;
    $('result-priority').hidden = !pref;
    // A booked customer's mark and what happens next; a phone ticket's arrival.
    const appt = checkin && checkin.appointment;
    const mark = appt ? t('ui.kiosk.checkin_booked', { time: TK.timeOfDay(appt.start) }) : '';
    const next = !checkin ? '' : !appt ? t('ui.kiosk.checkin_remote')
      : appt.late ? t('ui.kiosk.checkin_late') : t('ui.kiosk.checkin_on_time');
    $('result-appointment').textContent = mark;
    $('result-appointment').hidden = !mark;
    $('pt-appointment').textContent = mark;
    $('pt-appointment').hidden = !mark;
    $('result-checkin').textContent = next;
    $('result-checkin').hidden = !next;
    $('result-position').textContent = position;
    $('result-estimate').textContent = estimate;
    // A QR only when the bank has a Telegram bot (the figure is rendered hidden otherwise).
    const bot = !$('result-qr-figure').hidden;
    const qr = bot && ticket.token ? '/assets/qr/' + encodeURIComponent(ticket.token) + '.svg' : '';
    ['result-qr', 'pt-qr'].forEach((id) => {
      const img = $(id);
      img.hidden = !qr;
      if (qr) img.src = qr; else img.removeAttribute('src');
      img.alt = t('ui.kiosk.qr_alt', { number: ticket.number });
    });
    // The printed ticket.
    $('pt-branch').textContent = state.branch ? t('ui.kiosk.ticket_branch', { name: TK.branchLabel(state.branch) }) : '';
    $('pt-service').textContent = service;
    $('pt-number').textContent = ticket.number;
    $('pt-priority').hidden = !pref;
    $('pt-position').textContent = position;
    $('pt-estimate').textContent = estimate;
    const issued = ticket.created_at ? new Date(ticket.created_at) : new Date();
    $('pt-issued').textContent = t('ui.kiosk.ticket_issued_at', {
      time: issued.toLocaleDateString(TK.lang === 'en' ? 'en-GB' : 'es-CL') + ' ' + TK.timeOfDay(ticket.created_at),
    });
    document.body.dataset.ticket = ticket.id || '';
    show('result');
    if (AUTO_PRINT) printWhenReady();
    let left = RESULT_SECONDS;
    const tick = () => { $('result-countdown').textContent = t('ui.kiosk.returning', { n: left }); };
    tick();
    if (countdown) clearInterval(countdown);
    countdown = setInterval(() => {
      left--;
      if (left <= 0) { goHome(); return; }
      tick();
    }, 1000);
  }

  // printWhenReady prints once the ticket's QR has loaded (or after 2 s).
  function printWhenReady() {
    const img = $('pt-qr');
    let printed = false;
    const go = () => { if (!printed) { printed = true; window.print(); } };
    if (img.hidden || (img.complete && img.naturalWidth > 0)) { go(); return; }
    img.addEventListener('load', go, { once: true });
    img.addEventListener('error', go, { once: true });
    setTimeout(go, 2000);
  }

  $('result-done').addEventListener('click', goHome);
  $('result-print').addEventListener('click', () => window.print());
  document.addEventListener('pointerdown', armIdle, { passive: true });

  // After an agent upgrade, take the new page while nobody is using the kiosk.
  TK.watchVersion(() => state.screen === 'services');

  const refresh = TK.debounce(refreshServices, 300);
  TK.loadBranchName().then((b) => { state.branch = b; });
  TK.live({
    onConnect: () => { refresh(); TK.loadBranchName().then((b) => { if (b) state.branch = b; }); },
    onEvent: (type) => { if (type.startsWith('ticket.') || type.startsWith('executive.') || type.startsWith('service.') || type === 'config.applied') refresh(); },
    onTick: () => { if (state.screen === 'services') refreshServices(); },
    tickMs: 30000,
  });
  reset();
})();
