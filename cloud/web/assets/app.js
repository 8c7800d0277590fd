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
      totals();
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
  // totals sums the tiles again into the national and regional rows (the
  // server renders them the same way, cloud/web/totals.go).
  // decimal writes a number as the page's language does (comma in Spanish).
  function decimal(s) { return document.documentElement.lang.indexOf("en") === 0 ? s : s.replace(".", ","); }
  function totals() {
    var table = document.getElementById("totals");
    if (!table || !grid) { return; }
    var sums = {};
    function add(key, t) {
      var s = sums[key] || (sums[key] = { branches: 0, waiting: 0, over: 0, decided: 0, within: 0, offline: 0 });
      s.branches++;
      s.waiting += Number(t.getAttribute("data-waiting"));
      s.over += Number(t.getAttribute("data-over"));
      s.decided += Number(t.getAttribute("data-decided"));
      s.within += Number(t.getAttribute("data-within"));
      if (t.classList.contains("off")) { s.offline++; }
    }
    grid.querySelectorAll(".tile").forEach(function (t) { add("\u0000", t); add("r:" + (t.getAttribute("data-region") || ""), t); });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var s = sums[tr.hasAttribute("data-national") ? "\u0000" : "r:" + tr.getAttribute("data-region")];
      if (!s) { return; }
      tr.querySelectorAll("td[data-k]").forEach(function (td) {
        var k = td.getAttribute("data-k");
        td.textContent = k === "sla" ? (s.decided ? decimal((Math.round(s.within * 1000 / s.decided) / 10).toFixed(1)) + "%" : "\u2014") : String(s[k]);
        if (k === "offline") { td.className = s.offline ? "bad" : ""; }
      });
    });
  }
  setInterval(tick, 1000);
})();
