// Polls the remote ticket's status every 5 s (the branch's relayed place)
// until it is final; the page works without it (reload).
(function () {
  var box = document.getElementById('join');
  if (!box || box.dataset.final === 'true') { return; }
  var url = box.dataset.poll;
  function tick() {
    fetch(url, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s) {
          document.getElementById('headline').textContent = s.headline;
          document.getElementById('detail').textContent = s.detail;
          if (s.final) { return; }
        }
        setTimeout(tick, 5000);
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, 5000);
})();
