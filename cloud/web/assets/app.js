// Ticketero HQ: live tiles over SSE, alert refresh and ticking wait timers.
// Plain JS, no framework, no CDN.
(function () {
  "use strict";
  var grid = document.getElementById("tiles");
  if (grid && window.EventSource) {
    var region = grid.getAttribute("data-region") || "";
    var src = new EventSource("/live" + (region ? "?region=" + encodeURIComponent(region) : ""));
    src.onopen = function () { document.body.setAttribute("data-live", "on"); };
    src.onerror = function () { document.body.setAttribute("data-live", "off"); };
    src.addEventListener("tile", function (e) {
      var d = JSON.parse(e.data);
      var el = document.getElementById("tile-" + d.id);
      var t = document.createElement("template");
      t.innerHTML = d.html.trim();
      var tile = t.content.firstElementChild;
      if (el) {
        el.replaceWith(tile);
      } else if (!region || tile.getAttribute("data-region") === region) {
        var empty = grid.querySelector("p");
        if (empty) { empty.remove(); }
        grid.appendChild(tile); // a branch first seen after the page loaded
      }
      tick();
    });
    src.addEventListener("alerts", function () {
      fetch("/alerts", { credentials: "same-origin" }).then(function (r) { return r.ok && !r.redirected ? r.text() : null; }).then(function (h) {
        if (h !== null) { document.getElementById("alerts").innerHTML = h; }
      });
    });
  }
  function fmt(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, x = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, xx = (x < 10 ? "0" : "") + x;
    return h > 0 ? h + ":" + mm + ":" + xx : m + ":" + xx;
  }
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".since[data-since]").forEach(function (el) {
      el.textContent = fmt(now - Number(el.getAttribute("data-since")));
    });
  }
  setInterval(tick, 1000);
})();
