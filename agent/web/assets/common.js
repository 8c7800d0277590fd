// common.js: what every branch page shares. The catalogue, the event types and
// the language come from data attributes the server rendered into <body>.
(function () {
  'use strict';
  const body = document.body;
  const lang = body.dataset.lang || 'es';
  let catalogue = {};
  let eventTypes = [];
  try { catalogue = JSON.parse(body.dataset.catalogue || '{}'); } catch (e) { catalogue = {}; }
  try { eventTypes = JSON.parse(body.dataset.events || '[]'); } catch (e) { eventTypes = []; }

  // t looks a key up and fills {placeholders} from vars.
  function t(key, vars) {
    let s = catalogue[key];
    if (s === undefined) return key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m));
    return s;
  }

  // APIError carries the RFC 9457 problem the agent answered with.
  class APIError extends Error {
    constructor(status, problem, network) {
      super((problem && (problem.title || problem.detail)) || t('ui.error_generic'));
      this.status = status;
      this.code = (problem && problem.code) || (network ? 'network' : 'http.' + status);
      this.network = !!network;
    }
  }

  // api calls the LAN API. opts: token, idempotencyKey, timeoutMs.
  async function api(method, path, payload, opts) {
    opts = opts || {};
    const headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.token) headers['Authorization'] = 'Bearer ' + opts.token;
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs || 10000);
    let res;
    try {
      res = await fetch('/api/v1' + path, {
        method: method, headers: headers, cache: 'no-store', signal: ctrl.signal,
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
    } catch (e) {
      throw new APIError(0, { title: t('ui.offline') }, true);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    if (res.status !== 204) {
      const ct = res.headers.get('Content-Type') || '';
      if (ct.indexOf('json') >= 0) {
        try { data = await res.json(); } catch (e) { data = null; }
      }
    }
    if (!res.ok) {
      // A gateway or a restarting agent is as good as unreachable: retryable.
      throw new APIError(res.status, data, res.status === 502 || res.status === 503 || res.status === 504);
    }
    return data;
  }

  // live keeps one EventSource to /api/v1/stream open for the page's life. On
  // every (re)connection it calls onConnect (the "hello" event): pages refetch
  // their state then, because events missed while disconnected are not replayed.
  // onEvent(type, data) runs for every change. A broken connection is closed and
  // reopened with a capped backoff, so an agent restart heals by itself; a
  // periodic onTick refetch is the safety net.
  function live(handlers) {
    let es = null;
    let backoff = 500;
    let timer = null;
    // null until the first answer: the badge is laid out (hidden) with the
    // "connected" text, so connecting shifts nothing on the page.
    let connected = null;
    const setState = (on) => {
      if (connected === on) return;
      connected = on;
      document.querySelectorAll('#conn').forEach((el) => {
        el.dataset.state = on ? 'online' : 'offline';
        el.textContent = on ? t('ui.online') : t('ui.offline');
        if (el.classList.contains('conn')) el.hidden = on;
      });
      if (handlers.onState) handlers.onState(on);
    };
    const connect = () => {
      timer = null;
      es = new EventSource('/api/v1/stream');
      es.addEventListener('hello', (ev) => {
        backoff = 500;
        setState(true);
        let data = {};
        try { data = JSON.parse(ev.data); } catch (e) { data = {}; }
        if (handlers.onConnect) handlers.onConnect(data);
      });
      const onChange = (ev) => {
        let data = {};
        try { data = JSON.parse(ev.data); } catch (e) { data = {}; }
        if (handlers.onEvent) handlers.onEvent(ev.type, data);
      };
      eventTypes.forEach((type) => es.addEventListener(type, onChange));
      es.addEventListener('message', onChange);
      es.onerror = () => {
        setState(false);
        es.close();
        if (timer === null) {
          timer = setTimeout(connect, backoff);
          backoff = Math.min(backoff * 2, 8000);
        }
      };
    };
    connect();
    // A page left for another (the back/forward cache may keep it) closes its
    // stream: a frozen page holding a connection would take one of the
    // browser's six per host, and after a few pages the next one could not
    // load. Shown again, it reconnects (and "hello" refetches everything).
    window.addEventListener('pagehide', () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (es) es.close();
    });
    window.addEventListener('pageshow', (ev) => { if (ev.persisted) connect(); });
    if (handlers.onTick && handlers.tickMs) setInterval(handlers.onTick, handlers.tickMs);
    return { connected: () => connected === true };
  }

  // debounce coalesces bursts of stream events into one refetch.
  function debounce(fn, ms) {
    let timer = null;
    return function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => { timer = null; fn(); }, ms);
    };
  }

  // el builds an element; text children are text nodes, never HTML.
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach((k) => {
        const v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
        else if (k in e && typeof v !== 'string') e[k] = v;
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    (children || []).forEach((c) => {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }

  function minutes(s) { return Math.max(0, Math.round((s || 0) / 60)); }

  // Estimates people can read (issue 15). Minutes up to the hour, rounded to
  // 5 from 10 min on; past the hour hours and minutes rounded to 10 ("entre
  // 1 h 10 y 1 h 40"); "más de 3 horas" once even the typical wait is past
  // WAIT_CAP_MIN, "1 h 40 o más" when only the upper end is. The low end
  // rounds down and the high end up, so the range still holds the estimate.
  const WAIT_CAP_MIN = 180;
  function roundWait(m, up) {
    const step = m < 10 ? 1 : m < 60 || (up && m === 60) ? 5 : 10;
    return (up ? Math.ceil(m / step) : Math.floor(m / step)) * step;
  }
  function duration(m) {
    if (m < 60) return t('ui.minutes', { n: m });
    const h = Math.floor(m / 60);
    const r = m % 60;
    return r ? t('ui.wait.hours_min', { h: h, m: String(r).padStart(2, '0') }) : t('ui.wait.hours', { h: h });
  }

  // waitRange turns an estimate {typical_s, upper_s} into "entre 5 y 9 min".
  function waitRange(est) {
    if (!est) return t('ui.none');
    const typical = minutes(est.typical_s);
    const upper = Math.max(typical, Math.ceil((est.upper_s || 0) / 60));
    if (upper === 0) return t('ui.wait_none');
    if (typical >= WAIT_CAP_MIN) return t('ui.wait.over', { h: WAIT_CAP_MIN / 60 });
    const low = roundWait(typical, false);
    const high = roundWait(upper, true);
    if (high > WAIT_CAP_MIN) return t('ui.wait.or_more', { low: duration(Math.max(low, 1)) });
    if (low === high) return duration(high);
    if (high <= 60) return t('ui.wait_range', { low: low, high: high });
    return t('ui.wait.range_long', { low: duration(low), high: duration(high) });
  }

  // smoother damps an estimate that jumps between two looks a minute apart
  // (an executive pauses, a long visit ends): per key (a service), each new
  // figure moves the shown one by 1 - e^(-dt/τ), τ = 2 min, so a real change
  // shows in full within minutes while a one-off spike shows a third of
  // itself. A queue that empties or starts, and a figure older than 15 minutes
  // are taken as they are. now is in ms (tests pass their own).
  function smoother() {
    const TAU_MS = 120000;
    const STALE_MS = 15 * 60000;
    const last = new Map();
    return function (key, est, now) {
      if (!est) return est;
      now = now === undefined ? Date.now() : now;
      const prev = last.get(key);
      let out = { typical_s: est.typical_s || 0, upper_s: est.upper_s || 0 };
      if (prev && prev.est.upper_s > 0 && out.upper_s > 0 && now - prev.at < STALE_MS) {
        const a = 1 - Math.exp(-Math.max(0, now - prev.at) / TAU_MS);
        out = {
          typical_s: Math.round(prev.est.typical_s + a * (out.typical_s - prev.est.typical_s)),
          upper_s: Math.round(prev.est.upper_s + a * (out.upper_s - prev.est.upper_s)),
        };
      }
      last.set(key, { est: out, at: now });
      return out;
    };
  }

  // clock formats seconds as m:ss or h:mm:ss.
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, '0');
    return h > 0 ? h + ':' + String(m).padStart(2, '0') + ':' + sec : m + ':' + sec;
  }

  // timeOfDay formats a time (now without iso) as 14:05 (24 h, as in Chile).
  function timeOfDay(iso, seconds) {
    const d = iso ? new Date(iso) : new Date();
    const o = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    if (seconds) o.second = '2-digit';
    return d.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'es-CL', o);
  }

  // RUT: the mod-11 check of shared/queue.ParseRUT, for live validation. The
  // agent validates again; this only guides the customer.
  function rutCheckDigit(body) {
    let sum = 0;
    let mul = 2;
    for (let i = body.length - 1; i >= 0; i--) {
      sum += Number(body[i]) * mul;
      mul = mul === 7 ? 2 : mul + 1;
    }
    const r = 11 - (sum % 11);
    return r === 11 ? '0' : r === 10 ? 'K' : String(r);
  }

  // rutState classifies keypad input (digits and K only): 'empty', 'incomplete',
  // 'invalid' or 'valid'.
  function rutState(raw) {
    const s = String(raw || '').toUpperCase().replace(/[^0-9K]/g, '');
    if (s === '') return 'empty';
    const body = s.slice(0, -1).replace(/^0+/, '');
    const dv = s.slice(-1);
    if (body.indexOf('K') >= 0) return 'invalid';
    if (body.length < 7) return 'incomplete';
    if (body.length > 8) return 'invalid';
    return rutCheckDigit(body) === dv ? 'valid' : 'invalid';
  }

  // rutFormat writes keypad input as 12.345.678-5.
  function rutFormat(raw) {
    const s = String(raw || '').toUpperCase().replace(/[^0-9K]/g, '');
    if (s.length < 2) return s;
    const body = s.slice(0, -1);
    const dv = s.slice(-1);
    return body.replace(/\B(?=(\d{3})+(?!\d))/g, '.') + '-' + dv;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  // showError fills an alert element, or hides it with an empty message.
  function showError(elem, msg) {
    if (!elem) return;
    elem.textContent = msg || '';
    elem.hidden = !msg;
  }

  // branchLabel is how screens and the printed ticket name the branch: HQ's
  // name and region ("Santiago Centro · RM"), or its ID until HQ names it.
  function branchLabel(b) {
    if (!b) return '';
    const name = b.name || b.branch || '';
    return b.region ? name + ' · ' + b.region : name;
  }

  // loadBranchName shows the branch's name and notes the agent's version.
  let agentVersion = null;
  let versionCheck = null;
  async function loadBranchName() {
    try {
      const b = await api('GET', '/branch');
      const name = branchLabel(b);
      document.querySelectorAll('#branch-name').forEach((e) => { e.textContent = name; });
      // Today's hours when the branch has a schedule ("" closed today), else
      // HQ's general hours; "closed now" outside them.
      const today = b && b.hours_today;
      const hours = typeof today === 'string' ? today : b && b.opening_hours;
      let text = hours ? t('ui.hours', { hours: hours.split(',').join(' · ') }) : '';
      if (typeof today === 'string' && !today) text = t('ui.hours_closed_today');
      if (text && b.open === false) text += ' · ' + t('ui.closed_now');
      document.querySelectorAll('#opening-hours').forEach((e) => {
        e.textContent = text;
        e.hidden = !text;
      });
      const v = b && b.agent_version;
      if (v && agentVersion && v !== agentVersion && versionCheck) versionCheck();
      if (v) agentVersion = v;
      return b;
    } catch (e) {
      return null;
    }
  }

  // watchVersion reloads the page once the agent answers with another version
  // (an upgrade brings new pages and assets), when canReload() allows it, so a
  // screen nobody touches still ends up on the new UI.
  function watchVersion(canReload) {
    versionCheck = () => {
      const tryReload = () => {
        if (!canReload || canReload()) location.reload();
        else setTimeout(tryReload, 5000);
      };
      tryReload();
    };
  }

  window.TK = {
    lang, t, api, APIError, live, debounce, el, waitRange, smoother, minutes, clock, timeOfDay,
    rutCheckDigit, rutState, rutFormat, uuid, sleep, showError, branchLabel, loadBranchName, watchVersion,
  };
})();
