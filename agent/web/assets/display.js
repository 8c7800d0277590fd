// display.js: the waiting-room board. Refetches the last calls on a call;
// the waiting counts come with each ticket event on the stream (a delta:
// every queue's count after the change), and are fetched whole
// (/queues?tickets=none: no ticket lists) only on a new configuration, on
// every reconnection and every 15 s, so it never needs
// a touch or a reload, even across an agent restart. New calls get a chime
// and a spoken call through the browser's speech synthesis, when the browser
// lets the page play sound (a kiosk-mode flag, or a first touch); the newest
// call stays highlighted for ?highlight=N seconds (default 60).
(function () {
  'use strict';
  const { t, api, el } = window.TK;
  const $ = (id) => document.getElementById(id);
  const HISTORY = 8;
  // How long the newest call stays highlighted (amber, large): a per-TV
  // setting in its start URL, ?highlight=N seconds (5 to 900).
  const HIGHLIGHT_SECONDS = (() => {
    const n = Number(new URLSearchParams(location.search).get('highlight'));
    return Number.isInteger(n) && n >= 5 && n <= 900 ? n : 60;
  })();
  let highlightTimer = null;
  let highlighted = '';

  const known = new Set(); // calls already shown: ticket|recall|called_at
  let primed = false; // the first load is shown, not announced
  let announced = 0;
  const queue = [];
  let speaking = false;
  let audio = null;

  const callKey = (c) => c.ticket + '|' + (c.recall || 0) + '|' + c.called_at;

  function splitNumber(number) {
    const m = /^([A-Z]+)-?0*(\d+)$/.exec(String(number || ''));
    return m ? { letter: m[1], n: m[2] } : { letter: '', n: String(number || '') };
  }

  async function refreshCalls() {
    let data;
    try { data = await api('GET', '/calls?limit=' + HISTORY); } catch (e) { return; }
    const calls = (data && data.calls) || [];
    const fresh = calls.filter((c) => !known.has(callKey(c)));
    calls.forEach((c) => known.add(callKey(c)));
    render(calls, fresh.length > 0 && primed);
    if (primed) fresh.slice(0, 3).reverse().forEach(announce);
    primed = true;
  }

  // highlight marks the newest call for HIGHLIGHT_SECONDS: from now for a
  // call the board just saw, from its called_at for one it found on loading
  // (so a reload does not restart an old call's highlight).
  function highlight(newest, fresh) {
    const key = newest ? callKey(newest) : '';
    if (key === highlighted) return;
    highlighted = key;
    if (highlightTimer) clearTimeout(highlightTimer);
    highlightTimer = null;
    const left = !newest ? 0 : fresh ? HIGHLIGHT_SECONDS * 1000 : HIGHLIGHT_SECONDS * 1000 - (Date.now() - Date.parse(newest.called_at));
    const on = left > 0;
    $('newest').classList.toggle('settled', !on);
    document.body.dataset.highlight = on ? 'on' : 'off';
    if (on) {
      highlightTimer = setTimeout(() => {
        highlightTimer = null;
        $('newest').classList.add('settled');
        document.body.dataset.highlight = 'off';
      }, Math.min(left, HIGHLIGHT_SECONDS * 1000));
    }
  }

  function render(calls, flash) {
    const newest = calls[0];
    highlight(newest, flash);
    $('newest-empty').hidden = !!newest;
    $('newest-number').textContent = newest ? newest.number : '';
    $('newest-counter').textContent = newest ? t('ui.display.go_to', { counter: newest.counter }) : '';
    $('newest-appt').hidden = !(newest && newest.appointment); // a booked customer: "Hora agendada"
    document.body.dataset.newest = newest ? newest.number : '';
    document.body.dataset.newestCounter = newest ? String(newest.counter) : '';
    if (flash) {
      const box = $('newest');
      box.classList.remove('flash');
      void box.offsetWidth; // restart the animation
      box.classList.add('flash');
    }
    const list = $('history');
    list.textContent = '';
    calls.slice(1, HISTORY).forEach((c) => {
      list.appendChild(el('li', { 'data-number': c.number }, [
        el('span', { class: 'h-number', text: c.number }),
        el('span', { class: 'h-counter', text: t('ui.counter', { n: c.counter }) }),
        c.appointment ? el('span', { class: 'h-appt appt-mark', text: t('ui.appointment_mark') }) : null,
      ]));
    });
  }

  async function refreshWaiting() {
    let data;
    try { data = await api('GET', '/queues?tickets=none'); } catch (e) { return; }
    const list = $('waiting');
    list.textContent = '';
    ((data && data.queues) || []).forEach((q) => {
      list.appendChild(el('li', { 'data-service': q.service }, [
        el('span', { class: 'w-name', text: q.name }),
        el('span', { class: 'w-count', text: String(q.waiting || 0) }),
      ]));
    });
  }

  // applyWaiting sets the counts an event carries; a service the board does
  // not list yet (a new configuration) makes it fetch the list.
  function applyWaiting(waiting) {
    let missing = false;
    Object.keys(waiting).forEach((code) => {
      const c = document.querySelector('#waiting li[data-service="' + CSS.escape(code) + '"] .w-count');
      if (c) c.textContent = String(waiting[code]);
      else missing = true;
    });
    document.body.dataset.deltas = String(Number(document.body.dataset.deltas || 0) + 1);
    return !missing;
  }

  // Sound: a two-tone chime from an oscillator (no audio file), then speech.
  function audioContext() {
    if (!audio) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return null;
      audio = new AC();
    }
    return audio;
  }

  // soundAllowed: the browser lets this page play sound now, because it was
  // started with a kiosk-mode flag (--autoplay-policy=no-user-gesture-required:
  // the audio context runs at once) or someone touched the board. Without it
  // the board stays silent rather than call speechSynthesis.speak() without a
  // user gesture, a path browsers deprecated and refuse.
  function soundAllowed() {
    const ctx = audioContext();
    if (ctx && ctx.state === 'running') return true;
    return !!(navigator.userActivation && navigator.userActivation.hasBeenActive);
  }

  function chime() {
    const ctx = audioContext();
    if (!ctx || ctx.state !== 'running') return 0;
    const now = ctx.currentTime;
    [[880, 0], [660, 0.45]].forEach(([freq, at]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.4, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.6);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.65);
    });
    return 1100;
  }

  function speak(text) {
    return new Promise((resolve) => {
      if (!('speechSynthesis' in window) || !soundAllowed()) { resolve(); return; }
      const u = new SpeechSynthesisUtterance(text);
      const lang = t('ui.display.speech_lang');
      u.lang = lang;
      const voices = window.speechSynthesis.getVoices();
      const voice = voices.find((v) => v.lang === lang) || voices.find((v) => v.lang && v.lang.slice(0, 2) === lang.slice(0, 2));
      if (voice) u.voice = voice;
      u.rate = 0.9;
      const done = () => resolve();
      u.onend = done;
      u.onerror = done;
      setTimeout(done, 6000); // never let a silent engine block the queue
      window.speechSynthesis.speak(u);
    });
  }

  function announce(call) {
    const parts = splitNumber(call.number);
    const text = t('ui.display.speech', { letter: parts.letter, n: parts.n, counter: call.counter });
    announced++;
    document.body.dataset.announced = String(announced);
    document.body.dataset.lastSpeech = text;
    document.body.dataset.spoken = soundAllowed() ? 'yes' : 'no';
    queue.push(text);
    drain();
  }

  async function drain() {
    if (speaking) return;
    speaking = true;
    while (queue.length) {
      const text = queue.shift();
      const ms = chime();
      await TK.sleep(ms);
      await speak(text);
    }
    speaking = false;
  }

  // Browsers may refuse sound until a first gesture; the board works without it
  // (a kiosk-mode browser is started with --autoplay-policy=no-user-gesture-required).
  function checkSound() {
    const ctx = audioContext();
    if (!ctx) return;
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    setTimeout(() => { $('sound').hidden = ctx.state === 'running'; }, 500);
  }
  $('sound').addEventListener('click', () => {
    const ctx = audioContext();
    if (ctx) ctx.resume().then(() => { $('sound').hidden = true; }).catch(() => {});
  });

  function tickClock() {
    const c = $('clock');
    const now = new Date();
    c.textContent = TK.timeOfDay();
    c.setAttribute('datetime', now.toISOString());
  }
  tickClock();
  setInterval(tickClock, 1000);

  // The branch manager's message: a band across the bottom of the board
  // (over it, so it moves nothing), taken down when it expires.
  let messageTimer = null;
  async function refreshMessage() {
    let data;
    try { data = await api('GET', '/display/message'); } catch (e) { return; }
    const m = data && data.message;
    const left = m ? Date.parse(m.until) - Date.now() : 0;
    if (messageTimer) clearTimeout(messageTimer);
    messageTimer = null;
    $('tv-message-text').textContent = m && left > 0 ? m.text : '';
    $('tv-message').hidden = !(m && left > 0);
    document.body.dataset.message = m && left > 0 ? m.text : '';
    if (m && left > 0) messageTimer = setTimeout(refreshMessage, Math.min(left + 500, 2147483000));
  }

  TK.watchVersion(() => !speaking);
  const refreshAll = () => { refreshCalls(); refreshWaiting(); refreshMessage(); };
  const onCall = TK.debounce(refreshCalls, 100);
  const onWaiting = TK.debounce(refreshWaiting, 300);
  TK.loadBranchName();
  TK.live({
    onConnect: () => { refreshAll(); TK.loadBranchName(); },
    onEvent: (type, data) => {
      if (type === 'ticket.called' || type === 'ticket.recalled' || type === 'ticket.unparked') onCall();
      const applied = data && data.waiting ? applyWaiting(data.waiting) : false;
      if (type === 'config.applied' || (!applied && (type.startsWith('ticket.') || type.startsWith('day.')))) onWaiting();
      if (type === 'display.message' || type.startsWith('day.')) refreshMessage();
    },
    onTick: () => { refreshAll(); TK.loadBranchName(); },
    tickMs: 15000,
  });
  // The board shows once its first calls and counts are in, so filling them
  // moves nothing (layout shift).
  Promise.allSettled([refreshCalls(), refreshWaiting(), refreshMessage()]).then(() => {
    document.querySelector('.board-main').setAttribute('aria-busy', 'false');
  });
  checkSound();
})();
