/* copytrader dashboard: live regions, charts, keyboard navigation. No framework, no inline
 * script, no eval; every request goes to this page's own origin. */
(function () {
  "use strict";

  // ---- keyboard navigation in tables: arrows, Home and End move between rows ----------
  function rowsOf(table) {
    return table.tBodies.length ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  }

  function focusRow(row) {
    var link = row.querySelector("a[data-row-link]");
    (link || row).focus();
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var target = ev.target;
    if (!target || !target.closest) return;
    var wrap = target.classList && target.classList.contains("table-wrap") ? target : null;
    if (wrap && (ev.key === "ArrowDown" || ev.key === "Home")) {
      var table = wrap.querySelector("table[data-keynav]");
      var first = table && rowsOf(table)[0];
      if (first) { ev.preventDefault(); focusRow(first); }
      return;
    }
    var row = target.closest("table[data-keynav] tbody tr");
    if (!row) return;
    var rows = rowsOf(row.closest("table"));
    var i = rows.indexOf(row);
    var to = null;
    if (ev.key === "ArrowDown") to = rows[i + 1];
    else if (ev.key === "ArrowUp") to = rows[i - 1];
    else if (ev.key === "Home") to = rows[0];
    else if (ev.key === "End") to = rows[rows.length - 1];
    else return;
    if (to) { ev.preventDefault(); focusRow(to); }
  });

  // ---- charts (uPlot, served from this package) --------------------------------------
  var charts = [];

  function cssVar(el, name) {
    return getComputedStyle(el).getPropertyValue(name).trim();
  }

  function percent(u, v) {
    return v == null ? "—" : v.toFixed(2) + " %";
  }

  function Chart(el) {
    this.el = el;
    this.box = el.closest(".chart-box");
    this.src = el.getAttribute("data-src");
    this.plot = null;
    this.key = null;
    this.doc = null;
    var self = this;
    Array.prototype.forEach.call(this.box.querySelectorAll("a[data-range]"), function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        self.select(a.getAttribute("data-range"));
      });
    });
  }

  Chart.prototype.select = function (range) {
    var src = new URL(this.src, location.href);
    src.searchParams.set("range", range);
    this.src = src.pathname + src.search;
    this.el.setAttribute("data-src", this.src);
    Array.prototype.forEach.call(this.box.querySelectorAll("a[data-range]"), function (a) {
      if (a.getAttribute("data-range") === range) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
    var here = new URL(location.href);
    here.searchParams.set("range", range);
    history.replaceState(null, "", here.pathname + here.search);
    keepRange(range);
    this.load();
  };

  Chart.prototype.load = function () {
    var self = this;
    return fetch(this.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (doc) { self.draw(doc); })
      .catch(function (err) { self.el.setAttribute("data-error", String(err)); });
  };

  Chart.prototype.draw = function (doc) {
    this.doc = doc;
    this.el.removeAttribute("data-error");
    this.box.querySelector(".chart-empty").hidden = doc.t.length > 0;
    // The master is drawn last, on top of followers that track it exactly.
    var data = [doc.t].concat(doc.followers.map(function (f) { return f.roi; }),
                              [doc.master_roi]);
    var key = JSON.stringify(doc.followers.map(function (f) { return f.follower; }));
    if (this.plot && this.key === key) {
      this.plot.setData(data);
      return;
    }
    this.build(doc, data, key);
  };

  Chart.prototype.build = function (doc, data, key) {
    if (this.plot) this.plot.destroy();
    this.key = key;
    var el = this.el;
    var palette = cssVar(el, "--chart-palette").split(",").map(function (s) { return s.trim(); })
      .filter(Boolean);
    var axis = cssVar(el, "--chart-axis");
    var grid = cssVar(el, "--chart-grid");
    var series = [{ label: "time (UTC)" }].concat(doc.followers.map(function (f, i) {
      return { label: f.follower.slice(0, 8), stroke: palette[i % palette.length], width: 1.5,
               value: percent };
    }), [{ label: "master", stroke: cssVar(el, "--chart-master"), width: 3, value: percent }]);
    var axisStyle = { stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid } };
    this.plot = new uPlot({
      width: Math.max(el.clientWidth, 240),
      height: el.clientWidth < 500 ? 240 : 320,
      series: series,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: { x: { time: true } },
      axes: [axisStyle, Object.assign({ size: 64, values: function (u, vals) {
        return vals.map(function (v) { return v + " %"; });
      } }, axisStyle)],
      cursor: { drag: { x: true, y: false } }
    }, data, el);
    el.uplot = this.plot;
  };

  Chart.prototype.resize = function () {
    if (this.plot) {
      var w = Math.max(this.el.clientWidth, 240);
      this.plot.setSize({ width: w, height: w < 500 ? 240 : 320 });
    }
  };

  Chart.prototype.rebuild = function () {
    if (this.doc) { this.key = null; this.draw(this.doc); }
  };

  // Links elsewhere on the page (sorting, pages) keep the chart's range.
  function keepRange(range) {
    Array.prototype.forEach.call(document.querySelectorAll("#clones a[href^='?']"), function (a) {
      var u = new URL(a.getAttribute("href"), location.href);
      u.searchParams.set("range", range);
      a.setAttribute("href", u.search);
    });
  }

  function startCharts() {
    if (!window.uPlot) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (el) {
      var chart = new Chart(el);
      charts.push(chart);
      chart.load();
    });
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
    if (window.matchMedia) {
      var scheme = window.matchMedia("(prefers-color-scheme: dark)");
      var redraw = function () { charts.forEach(function (c) { c.rebuild(); }); };
      if (scheme.addEventListener) scheme.addEventListener("change", redraw);
    }
  }

  // ---- live regions: fetched again when a pass ends ----------------------------------
  var live = document.getElementById("live");
  var refreshing = false;
  var again = false;
  var refreshes = 0;

  function say(state, text) {
    if (!live) return;
    live.className = "live " + state;
    live.textContent = text;
  }

  function clock() {
    return new Date().toISOString().slice(11, 19) + " UTC";
  }

  function focusedHref() {
    var a = document.activeElement;
    return a && a.tagName === "A" && a.closest("[data-live]") ? a.getAttribute("href") : null;
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    var href = focusedHref();
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (r.redirected && new URL(r.url).pathname === "/login") {
          location.assign(r.url);
          throw new Error("signed out");
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        Array.prototype.forEach.call(document.querySelectorAll("[data-live][id]"), function (old) {
          var now = fresh.getElementById(old.id);
          if (now && now.hasAttribute("data-live")) old.replaceWith(document.adoptNode(now));
        });
        if (href) {
          var back = document.querySelector("[data-live] a[href=\"" + CSS.escape(href) + "\"]");
          if (back) back.focus();
        }
        charts.forEach(function (c) { c.load(); });
        refreshes += 1;
        document.body.setAttribute("data-refreshes", String(refreshes));
        say("on", "live · updated " + clock());
      })
      .catch(function (err) { say("off", "update failed: " + err.message); })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function startLive() {
    if (!document.body.hasAttribute("data-live-page") || !window.EventSource) {
      say("off", "not live");
      return;
    }
    var events = new EventSource("/api/events");
    events.addEventListener("open", function () { say("on", "live"); });
    events.addEventListener("error", function () { say("off", "reconnecting…"); });
    events.addEventListener("pass", function () { refresh(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCharts();
    startLive();
  });
})();
