// The live connection indicator: shows whether this page's real-time socket is connected.
(function () {
  "use strict";
  var indicator = document.getElementById("live-indicator");
  if (!indicator) { return; }
  var label = indicator.querySelector(".live__label");

  function setState(state) {
    indicator.className = "live live--" + state;
    indicator.dataset.state = state;
    label.textContent = indicator.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)];
  }

  if (typeof io === "undefined") { setState("offline"); return; }  // the client library did not load

  var socket = io({ transports: ["websocket", "polling"], withCredentials: true });
  window.marketplaceSocket = socket;
  socket.on("connect", function () { setState("live"); });
  socket.on("disconnect", function () { setState("connecting"); });
  socket.on("connect_error", function () { setState("offline"); });
  socket.io.on("reconnect_attempt", function () { setState("connecting"); });
})();
