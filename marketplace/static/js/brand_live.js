// The brand's live view: who waits and who talks right now. Each change the socket announces, and each
// (re)connection, refetches the whole view from the API; between changes the waiting times tick here.
(function () {
  "use strict";
  var view = document.getElementById("live-view");
  var initial = document.getElementById("live-data");
  if (!view || !initial) { return; }
  var REFRESH_DELAY_MS = 300;  // a burst of changes (one chat offered, accepted, its first message) costs one fetch
  var lang = document.documentElement.lang || undefined;
  var labels = view.dataset;
  var bodies = {
    waiting: view.querySelector("[data-live-rows=waiting]"),
    active: view.querySelector("[data-live-rows=active]")
  };
  var numbers = new Intl.NumberFormat(lang);
  var clock = MarketplaceClock.timeFormat(lang, view.dataset.timezone);
  var parseTime = MarketplaceClock.parseTime;
  var clockOffsetMs = 0;  // server time minus this device's time, so a wrong phone clock shows true waits
  var refreshTimer = null;
  var generation = 0;

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content; }
    row.appendChild(td);
    return td;
  }

  function pageLink(url) {
    if (!url || !/^https?:\/\//i.test(url)) { return labels.labelNone; }
    var link = document.createElement("a");
    var shown = url.replace(/^https?:\/\//i, "");
    link.href = url;
    link.title = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    link.textContent = shown.length > 60 ? shown.slice(0, 59) + "…" : shown;
    return link;
  }

  function newRow(conversation) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-testid", "live-row");
    tr.dataset.conversationId = String(conversation.id);
    tr.dataset.status = conversation.status;
    return tr;
  }

  function waitingRow(conversation) {
    var tr = newRow(conversation);
    var waited = document.createElement("time");
    waited.dataset.waitedSince = conversation.created_at;
    waited.textContent = duration(conversation.waited_seconds);
    cell(tr, waited);
    cell(tr, conversation.topic || labels.labelNone);
    cell(tr, pageLink(conversation.page_url));
    var status = document.createElement("span");
    status.className = "status";
    status.textContent = labels["label" + conversation.status.charAt(0).toUpperCase() + conversation.status.slice(1)]
      || conversation.status;
    cell(tr, status);
    return tr;
  }

  function activeRow(conversation) {
    var tr = newRow(conversation);
    cell(tr, conversation.expert_name || labels.labelNone);
    cell(tr, conversation.topic || labels.labelNone);
    cell(tr, pageLink(conversation.page_url));
    // An active chat's wait ended when it started, so the start follows from the documented fields alone.
    var started = conversation.started_at ? parseTime(conversation.started_at)
      : parseTime(conversation.created_at) + conversation.waited_seconds * 1000;
    if (isNaN(started)) {
      cell(tr, labels.labelNone);
    } else {
      var time = document.createElement("time");
      time.dateTime = new Date(started).toISOString();
      time.textContent = clock.format(new Date(started));
      cell(tr, time);
    }
    cell(tr, numbers.format(conversation.last_seq || 0));
    return tr;
  }

  function fill(body, conversations, build) {
    var empty = body.querySelector("[data-testid=live-empty]");
    Array.prototype.forEach.call(body.querySelectorAll("[data-testid=live-row]"), function (row) { row.remove(); });
    conversations.forEach(function (conversation) { body.insertBefore(build(conversation), empty); });
    empty.hidden = conversations.length > 0;
  }

  function setCount(name, value) {
    var node = view.querySelector("[data-live-count=" + name + "]");
    if (node) { node.textContent = numbers.format(value); }
  }

  function render(live) {
    var waiting = live.waiting || [];
    var active = live.active || [];
    if (waiting.length) {  // a waiting row's wait runs until now, on the server's clock
      var created = parseTime(waiting[0].created_at);
      if (!isNaN(created)) { clockOffsetMs = created + waiting[0].waited_seconds * 1000 - Date.now(); }
    }
    fill(bodies.waiting, waiting, waitingRow);
    fill(bodies.active, active, activeRow);
    setCount("waiting", waiting.length);
    setCount("active", active.length);
    setCount("experts_online", live.experts_online || 0);
  }

  function tick() {
    var now = Date.now() + clockOffsetMs;
    Array.prototype.forEach.call(view.querySelectorAll("[data-waited-since]"), function (node) {
      var since = parseTime(node.dataset.waitedSince);
      if (!isNaN(since)) { node.textContent = duration((now - since) / 1000); }
    });
  }

  function refresh() {
    refreshTimer = null;
    var mine = ++generation;
    fetch(view.dataset.liveUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("live view answered " + response.status); }
        return response.json();
      })
      .then(function (live) {
        if (mine === generation) { render(live); tick(); }  // an older answer arriving late is dropped
      })
      .catch(function () { /* keep what is shown: the next change or reconnection fetches again */ });
  }

  function refreshSoon() {
    // Not reset by later events, so a steady stream of changes still refreshes every 300 ms.
    if (refreshTimer === null) { refreshTimer = setTimeout(refresh, REFRESH_DELAY_MS); }
  }

  try {
    render(JSON.parse(initial.textContent));
  } catch (error) { /* the server-rendered rows stay */ }
  tick();
  setInterval(tick, 1000);

  var socket = window.marketplaceSocket;
  if (socket) {
    socket.on("live_conversation", refreshSoon);
    socket.on("connect", refreshSoon);  // events missed while disconnected are not replayed
  }
})();
