// The expert's presence on their phone: a heartbeat over the socket while online, and the status kept
// in step with the server (another tab, the grace period or missed offers can change it).
(function () {
  "use strict";
  var card = document.getElementById("presence-card");
  if (!card) { return; }
  var HEARTBEAT_MS = 25000;  // well inside the server's grace period (PRESENCE_GRACE_SECONDS, 90 s by default)
  var label = card.querySelector("[data-presence-label]");
  var timer = null;

  function show(status) {
    card.dataset.presence = status;
    card.className = card.className.replace(/presence--\w+/, "presence--" + status);
    var text = label && label.dataset["label" + status.charAt(0).toUpperCase() + status.slice(1)];
    if (text) { label.textContent = text; }
  }

  function beat(socket) {
    socket.emit("heartbeat", {}, function (answer) {
      if (answer && answer.status && answer.status !== card.dataset.presence) {
        // The server moved us (e.g. away after a long background): reload for the right buttons.
        window.location.reload();
      }
    });
  }

  function start(socket) {
    if (timer) { clearInterval(timer); }
    beat(socket);
    timer = setInterval(function () { beat(socket); }, HEARTBEAT_MS);
  }

  function attach(socket) {
    socket.on("presence", function (event) {
      if (event.status !== card.dataset.presence) { window.location.reload(); } else { show(event.status); }
    });
    if (card.dataset.heartbeat !== "on") { return; }
    socket.on("connect", function () { start(socket); });
    if (socket.connected) { start(socket); }
    // A phone that comes back from the background says so at once, not at the next tick.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && socket.connected) { start(socket); }
    });
  }

  if (window.marketplaceSocket) { attach(window.marketplaceSocket); }
})();
