// Ticketero HQ: live tiles over SSE, alert refresh and ticking wait timers.
// Plain JS, no framework, no CDN.
(function () {
  "use strict";
  var grid = document.getElementById("tiles");
  // The page paints as the server sent it (without JavaScript it is
  // complete: pages of tiles with links); the virtual grid and the live
  // stream start after that first frame, so measuring the tiles, the spacers
  // and the stream's requests never delay the first paint.
  afterFirstPaint(function () {
    var view = grid && window.fetch ? virtualTiles(grid) : null;
    if (grid && window.EventSource) { live(view); }
  });
  setInterval(tick, 1000);

  // afterFirstPaint runs f once the browser has painted a frame (a task
  // queued from the next animation frame), or at once in a page that is not
  // visible: hidden pages get no animation frames.
  function afterFirstPaint(f) {
    var done = false;
    function run() { if (!done) { done = true; f(); } }
    if (window.requestAnimationFrame && document.visibilityState === "visible") {
      window.requestAnimationFrame(function () { setTimeout(run, 0); });
      setTimeout(run, 500); // hidden before its first frame
    } else {
      setTimeout(run, 0);
    }
  }

  function live(view) {
    var region = grid.getAttribute("data-region") || "";
    // No snapshot: the page and its windows (/tiles) bring the tiles; the
    // stream brings changes and the totals they change.
    var src = new EventSource("/live?snapshot=0" + (region ? "&region=" + encodeURIComponent(region) : ""));
    src.onopen = function () { document.body.setAttribute("data-live", "on"); };
    // The stream first tells the version of the server's tiles: changes
    // between the page and this stream, or while it was down, were missed,
    // and the tiles in view are fetched again, unless the page shows that
    // very version (the usual first connection).
    var seen = grid.getAttribute("data-seq");
    src.addEventListener("seq", function (e) {
      if (view && (!seen || e.data !== seen)) { view.reload(); }
      seen = null;
    });
    src.onerror = function () { document.body.setAttribute("data-live", "off"); };
    // A page left for another must not keep its stream open in the
    // back/forward cache (over HTTP/1.1 six of them take every connection to
    // the server); coming back to it shows a fresh page.
    window.addEventListener("pagehide", function () { src.close(); });
    window.addEventListener("pageshow", function (e) { if (e.persisted) { location.reload(); } });
    src.addEventListener("tile", function (e) {
      var d = JSON.parse(e.data);
      var el = document.getElementById("tile-" + d.id);
      if (!el) { return; } // not in view: the next window brings it
      var t = document.createElement("template");
      t.innerHTML = d.html.trim();
      el.replaceWith(t.content.firstElementChild);
      tick();
    });
    src.addEventListener("totals", function (e) { totals(JSON.parse(e.data)); });
    src.addEventListener("alerts", function () {
      fetch("/alerts", { credentials: "same-origin" }).then(function (r) { return r.ok && !r.redirected ? r.text() : null; }).then(function (h) {
        if (h !== null) { document.getElementById("alerts").innerHTML = h; }
      });
    });
  }

  // virtualTiles keeps in the page only the tiles in view (and a few rows
  // around them): at 5,000 branches the grid holds a few dozen tiles, with
  // spacers standing for the rows above and below, and fetches the tiles of
  // the rows scrolled into view from /tiles (same region, sort and search).
  // The search box filters as one types. Without JavaScript the page shows
  // pages of tiles with links (#tiles-pager).
  function virtualTiles(grid) {
    var pager = document.getElementById("tiles-pager");
    var status = document.getElementById("tiles-status");
    var search = document.getElementById("branch-search");
    var st = {
      total: Number(grid.getAttribute("data-total")) || 0,
      q: grid.getAttribute("data-q") || "",
      first: Number(grid.getAttribute("data-offset")) || 0, // index of the first tile in the grid
      count: grid.querySelectorAll(".tile").length,
      rowH: 0, cols: 1, seq: 0, pending: false, again: false
    };
    var before = spacer(), after = spacer();
    grid.insertBefore(before, grid.firstChild);
    grid.appendChild(after);
    grid.setAttribute("data-virtual", "on");
    if (pager) { pager.hidden = true; }
    function spacer() {
      var d = document.createElement("div");
      d.className = "spacer";
      d.setAttribute("aria-hidden", "true");
      return d;
    }
    function measure() {
      var cols = getComputedStyle(grid).gridTemplateColumns.split(" ").filter(Boolean).length;
      st.cols = Math.max(1, cols);
      var tiles = grid.querySelectorAll(".tile");
      if (tiles.length) {
        var a = tiles[0], b = tiles[tiles.length - 1];
        var rows = Math.ceil(tiles.length / st.cols);
        var gap = parseFloat(getComputedStyle(grid).rowGap) || 0;
        st.rowH = (b.offsetTop + b.offsetHeight - a.offsetTop + gap) / rows;
      }
      if (!st.rowH) { st.rowH = 240; }
    }
    function size(el, rows) {
      var gap = parseFloat(getComputedStyle(grid).rowGap) || 0;
      el.style.display = rows > 0 ? "" : "none";
      el.style.height = Math.max(0, rows * st.rowH - gap) + "px";
    }
    function layout() {
      var rows = Math.ceil(st.total / st.cols);
      size(before, Math.floor(st.first / st.cols));
      size(after, rows - Math.ceil((st.first + st.count) / st.cols));
    }
    // wanted is the window of tiles the viewport needs, in whole rows: at
    // least a screenful, also while the grid is still below the fold (long
    // totals or alerts above it) or the page is scrolled past its end.
    function wanted() {
      var top = -grid.getBoundingClientRect().top;
      var rows = Math.ceil(st.total / st.cols);
      var span = Math.ceil(window.innerHeight / st.rowH) + 4;
      var from = Math.min(Math.max(0, Math.floor(top / st.rowH) - 2), Math.max(0, rows - span));
      var to = Math.min(rows, Math.max(from + span, Math.ceil((top + window.innerHeight) / st.rowH) + 2));
      return { first: from * st.cols, count: Math.max(0, Math.min(st.total, to * st.cols) - from * st.cols) };
    }
    function load(force) {
      if (st.pending && !force) { st.again = true; return; } // one request at a time while scrolling
      var w = wanted();
      if (!force && w.first >= st.first && w.first + w.count <= st.first + st.count) { return; }
      // Fetch a little more than needed so small scrolls need nothing.
      var first = Math.max(0, w.first - 2 * st.cols);
      var count = Math.min(240, w.count + 4 * st.cols);
      var seq = ++st.seq;
      var qs = new URLSearchParams();
      ["region", "sort"].forEach(function (k) { var v = grid.getAttribute("data-" + k); if (v) { qs.set(k, v); } });
      if (st.q) { qs.set("q", st.q); }
      qs.set("offset", String(first));
      qs.set("limit", String(count));
      st.pending = true;
      fetch("/tiles?" + qs.toString(), { credentials: "same-origin" }).then(function (r) {
        return r.ok && !r.redirected ? r.json() : null;
      }).catch(function () { return null; }).then(function (d) {
        if (seq !== st.seq) { return; }
        st.pending = false;
        st.again = false;
        if (!d) { return; }
        var t = document.createElement("template");
        t.innerHTML = d.html;
        var old = grid.querySelectorAll(".tile, .tiles > p");
        for (var i = 0; i < old.length; i++) { old[i].remove(); }
        grid.insertBefore(t.content, after);
        st.total = d.total;
        st.first = d.offset;
        st.count = grid.querySelectorAll(".tile").length;
        grid.setAttribute("data-total", String(d.total));
        if (status && status.textContent !== d.status) { status.textContent = d.status; }
        measure();
        layout();
        tick();
        // The rows' measured height moves the spacers: check the viewport
        // again (and catch up with scrolls made while this was loading).
        onScroll();
      });
    }
    var queued = false;
    function onScroll() {
      if (queued) { return; }
      queued = true;
      window.requestAnimationFrame(function () { queued = false; load(false); });
    }
    measure();
    layout();
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", function () { measure(); layout(); onScroll(); });
    if (search) {
      var timer = null;
      search.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          st.q = search.value.trim();
          grid.setAttribute("data-q", st.q);
          var u = new URL(location.href);
          if (st.q) { u.searchParams.set("q", st.q); } else { u.searchParams.delete("q"); }
          u.searchParams.delete("page");
          history.replaceState(null, "", u.toString());
          if (grid.getBoundingClientRect().top < 0) { grid.scrollIntoView(); }
          st.first = 0;
          st.count = 0;
          load(true);
        }, 150);
      });
    }
    if (st.first > 0) { load(true); } // opened on a later page: show its rows where they are
    else { onScroll(); }
    return { reload: function () { load(true); } };
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
  // totals writes the live totals (the "totals" event, sums of every tile in
  // the page's scope and region as cloud/web/totals.go makes them).
  // decimal writes a number as the page's language does (comma in Spanish).
  function decimal(s) { return document.documentElement.lang.indexOf("en") === 0 ? s : s.replace(".", ","); }
  function totals(d) {
    var table = document.getElementById("totals");
    if (!table) { return; }
    var byRegion = {};
    d.regions.forEach(function (r) { byRegion[r.region] = r; });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var s = tr.hasAttribute("data-national") ? d.national : byRegion[tr.getAttribute("data-region")];
      if (!s) { return; }
      tr.querySelectorAll("td[data-k]").forEach(function (td) {
        var k = td.getAttribute("data-k");
        td.textContent = k === "sla" ? (s.decided ? decimal((Math.round(s.within * 1000 / s.decided) / 10).toFixed(1)) + "%" : "\u2014") : String(s[k]);
        if (k === "offline") { td.className = s.offline ? "bad" : ""; }
      });
    });
  }
})();
