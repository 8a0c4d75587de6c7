// The expert app's one presence mechanism, on every expert page: the status bar (presence in words and the
// switch for new chats) and the heartbeat that keeps an online expert available while any of their pages is
// open. The page's socket carries both (`heartbeat`, `presence_set`; the server announces changes as
// `presence`). A hidden tab's timers are throttled by the browser, so the beat runs several times per grace
// period and again at once when the page comes back into view or the socket reconnects.
(function () {
  "use strict";
  var bar = document.getElementById("status-bar");
  if (!bar) { return; }
  var socket = window.marketplaceSocket || null;
  var label = bar.querySelector("[data-presence-label]");
  var toggle = bar.querySelector("[data-presence-switch]");
  var sound = bar.querySelector("[data-sound-toggle]");
  var error = bar.querySelector("[data-presence-error]");
  var everyMs = Math.max(500, Number(bar.dataset.heartbeatSeconds || 25) * 1000);
  var timer = null;
  var SOUND_KEY = "marketplace.offerAlerts";
  var SET_TIMEOUT_MS = 10000;

  function words(status, reason) {
    if (status === "available") { return bar.dataset.labelAvailable; }
    if (status === "away" && reason === "missed_offers") { return bar.dataset.labelMissedOffers; }
    if (status === "away" && reason === "heartbeat_lost") { return bar.dataset.labelHeartbeatLost; }
    if (status === "away") { return bar.dataset.labelPaused; }
    return bar.dataset.labelOffline;
  }

  // The home page's presence card: its words and the buttons of the current state, shown in place (a reload
  // would swallow the tap of an expert about to press one of them).
  function drawCard(status, reason) {
    var card = document.getElementById("presence-card");
    if (!card) { return; }
    card.dataset.presence = status;
    card.className = card.className.replace(/presence--\w+/, "presence--" + status);
    var cardLabel = card.querySelector("[data-presence-card-label]");
    cardLabel.textContent = cardLabel.getAttribute("data-label-" + status) || cardLabel.textContent;
    card.querySelectorAll("[data-presence-show]").forEach(function (part) {
      var shown = part.dataset.presenceShow.split(" ").indexOf(status) >= 0 &&
        (!part.dataset.awayReason || part.dataset.awayReason === reason);
      part.hidden = !shown;
    });
  }

  function show(status, reason) {
    bar.dataset.presence = status;
    bar.dataset.awayReason = reason || "";
    bar.className = bar.className.replace(/statusbar--\w+/, "statusbar--" + status);
    label.textContent = words(status, reason);
    toggle.setAttribute("aria-checked", status === "available" ? "true" : "false");
    if (status === "offline") { stop(); } else if (!timer) { start(); }
    drawCard(status, reason);
    document.dispatchEvent(new CustomEvent("marketplace:presence", { detail: { status: status, away_reason: reason } }));
  }

  function showError(text) {
    error.textContent = text || "";
    error.hidden = !text;
  }

  function connected() { return !!(socket && socket.connected); }

  function beat() {
    if (!connected() || bar.dataset.presence === "offline") { return; }
    socket.emit("heartbeat", {}, function (answer) {
      if (answer && answer.status) { show(answer.status, answer.away_reason); }
    });
  }

  function start() {
    stop();
    if (bar.dataset.presence === "offline") { return; }
    beat();
    timer = setInterval(beat, everyMs);
  }

  function stop() {
    if (timer) { clearInterval(timer); }
    timer = null;
  }

  function setPresence(status) {
    if (!socket) { showError(bar.dataset.labelError); return; }
    toggle.disabled = true;
    // Sent at once, or as soon as the socket (re)connects; a socket that does not answer in time is an error.
    socket.timeout(SET_TIMEOUT_MS).emit("presence_set", { status: status }, function (timedOut, answer) {
      toggle.disabled = false;
      if (!timedOut && answer && answer.status) {
        showError("");
        show(answer.status, answer.away_reason);
      } else {
        showError((answer && answer.error) || bar.dataset.labelError);
      }
    });
  }

  // Sound and vibration on offers: a setting of this device, read by the offer banner.
  function alertsOn() {
    try { return window.localStorage.getItem(SOUND_KEY) !== "off"; } catch (e) { return true; }
  }

  function showSound() {
    var on = alertsOn();
    var text = on ? bar.dataset.labelSoundOn : bar.dataset.labelSoundOff;
    sound.setAttribute("aria-pressed", on ? "true" : "false");  // read out with its fixed name
    sound.title = text;
  }

  // The expert's inbox (pending offers, chats, canned answers), asked for by the offer banner and the Chats page
  // after each (re)connection: one request for both when they ask at once. Its Date header also tells how far
  // this phone's clock is off, so countdowns and "2 min ago" read right on a phone set wrong.
  var inboxAsked = null;
  var clockOffsetMs = 0;
  function fetchInbox() {
    if (inboxAsked) { return inboxAsked; }
    var askedAt = Date.now();
    inboxAsked = fetch(bar.dataset.inboxUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("inbox answered " + response.status); }
        var date = Date.parse(response.headers.get("Date") || "");
        if (!isNaN(date)) {  // stamped mid-way, in whole seconds: smaller differences are noise
          var offset = date + 500 - (askedAt + Date.now()) / 2;
          clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
        }
        return response.json();
      })
      .then(function (inbox) { return { inbox: inbox, askedAt: askedAt }; });
    var done = function () { inboxAsked = null; };
    inboxAsked.then(done, done);
    return inboxAsked;
  }
  window.marketplaceApp = { inbox: fetchInbox, clockOffsetMs: function () { return clockOffsetMs; } };

  toggle.addEventListener("click", function () {
    setPresence(toggle.getAttribute("aria-checked") === "true" ? "away" : "available");
  });
  sound.addEventListener("click", function () {
    try { window.localStorage.setItem(SOUND_KEY, alertsOn() ? "off" : "on"); } catch (e) { /* private mode */ }
    showSound();
  });
  showSound();
  window.marketplaceAlerts = { on: alertsOn };

  if (!socket) { return; }
  socket.on("presence", function (event) {
    if (event && event.status) { show(event.status, event.away_reason); }
  });
  socket.on("connect", start);
  socket.on("disconnect", stop);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { start(); }
  });
  if (socket.connected) { start(); }
})();
