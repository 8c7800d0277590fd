// tablet.js: the counter tablet (/tablet?counter=N). One tap for satisfaction
// (1–5), one for would-recommend (0–10), then thanks; the answer rates the
// visit that just finished at this counter (the agent finds it), once.
(function () {
  'use strict';
  const { t, api } = window.TK;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const counter = Number(params.get('counter')) || 1;
  const NPS_WAIT_MS = 20000; // no second tap: the satisfaction alone is sent
  const THANKS_MS = 4000;
  let csat = 0;
  let timer = null;

  // The language link keeps the tablet's counter.
  document.querySelectorAll('a.lang').forEach((a) => {
    const next = new URLSearchParams(location.search);
    next.set('lang', new URL(a.href, location.href).searchParams.get('lang') || '');
    a.href = location.pathname + '?' + next.toString();
  });

  function show(screen) {
    document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== 'screen-' + screen; });
  }

  function reset() {
    if (timer) clearTimeout(timer);
    timer = null;
    csat = 0;
    show('csat');
  }

  async function send(nps) {
    if (timer) clearTimeout(timer);
    timer = null;
    const body = { csat: csat };
    if (nps !== undefined) body.nps = nps;
    try {
      await api('POST', '/counters/' + counter + '/feedback', body);
      TK.showError($('tablet-error'), '');
      show('thanks');
    } catch (e) {
      TK.showError($('tablet-error'), e.message || t('ui.tablet.no_visit'));
      show('thanks');
      $('h-thanks').textContent = '';
    }
    timer = setTimeout(() => { $('h-thanks').textContent = t('ui.tablet.thanks'); TK.showError($('tablet-error'), ''); reset(); }, THANKS_MS);
  }

  document.querySelectorAll('[data-csat]').forEach((b) => {
    b.addEventListener('click', () => {
      csat = Number(b.dataset.csat);
      show('nps');
      timer = setTimeout(() => send(), NPS_WAIT_MS);
    });
  });
  document.querySelectorAll('[data-nps]').forEach((b) => {
    b.addEventListener('click', () => { if (csat) send(Number(b.dataset.nps)); });
  });
  reset();
})();
