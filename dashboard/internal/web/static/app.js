// Live updates of the dashboard: server-sent events replace page fragments with HTML that the
// server rendered and escaped; this script only swaps them in and keeps the "ago" texts current.
// An event's data is the fragment's HTML as one JSON string (so that no value from the
// databases can end a line of the event stream); JSON.parse gives the HTML back.
'use strict';
(function () {
  var live = document.getElementById('live');
  // the panels' event names: the server marks each panel's element with data-panel (its one
  // table of panels, internal/web/panels.go), so a new panel needs no change here
  var names = Array.prototype.map.call(document.querySelectorAll('[data-panel]'), function (el) {
    return el.getAttribute('data-panel');
  });
  var skew = 0; // server clock minus this clock, in ms

  function setLive(state, text) {
    if (!live) return;
    live.setAttribute('data-state', state);
    live.textContent = text;
  }

  function readSkew() {
    var el = document.querySelector('[data-now]');
    if (!el) return;
    var t = Date.parse(el.getAttribute('data-now'));
    if (!isNaN(t)) skew = t - Date.now();
  }

  function ago(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (ms < 1000) return 'just now';
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll('[data-since]').forEach(function (el) {
      var t = Date.parse(el.getAttribute('data-since'));
      if (!isNaN(t)) el.textContent = ago(now - t);
    });
    document.querySelectorAll('[data-lag-since]').forEach(function (el) {
      var t = Date.parse(el.getAttribute('data-lag-since'));
      if (!isNaN(t)) el.textContent = (Math.max(0, now - t) / 1000).toFixed(1) + ' s';
    });
  }

  function swap(name, html) {
    var el = document.getElementById(name + '-body');
    if (!el) return;
    // keep disclosure widgets the reader opened
    var open = Array.prototype.map.call(el.querySelectorAll('details[open]'), function (d, i) { return i; });
    var wasOpen = el.querySelectorAll('details').length > 0 && open.length > 0;
    el.innerHTML = html;
    if (wasOpen) el.querySelectorAll('details').forEach(function (d) { d.open = true; });
    if (el.querySelector('[data-now]')) readSkew(); // the panel that carries the server's clock
  }

  readSkew();
  tick();
  setInterval(tick, 1000);

  if (!('EventSource' in window)) {
    setLive('off', 'not supported by this browser; reload to refresh');
    return;
  }
  var es = new EventSource('/events');
  es.onopen = function () { setLive('on', 'connected'); };
  es.onerror = function () { setLive('off', 'reconnecting'); };
  names.forEach(function (name) {
    es.addEventListener(name, function (e) {
      swap(name, JSON.parse(e.data));
      tick();
      document.body.setAttribute('data-updates', String(Number(document.body.getAttribute('data-updates') || 0) + 1));
    });
  });
})();
