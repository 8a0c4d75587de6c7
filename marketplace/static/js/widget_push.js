// Web Push for the visitor (routing/visitor_push/): a browser that takes notifications is a way back, and a reply
// written while the visitor is away reaches it. Two places use this file:
// - the chat frame (#widget, after js/widget.js): the "Notify me" box. In the brand's frame browsers refuse to ask for
//   the permission, so it asks the server for the opt-in page's short-lived link and opens it at the top; opened as a
//   page itself (a resume link), the widget subscribes here. It learns the outcome from the conversation
//   (`push_enabled`), as the server tells every page of the visitor.
// - the opt-in page ([data-push-page]): asks, subscribes with the site's service worker, sends the subscription.
(function () {
  "use strict";

  function unsupported() {
    return !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window);
  }

  function failure(kind) {
    var error = new Error(kind);
    error.kind = kind;
    return error;
  }

  // The VAPID public key (base64url) as pushManager.subscribe wants it.
  function keyBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  // Ask, register the site's worker (scope "/", as the expert's app does) and subscribe; answers what the server
  // keeps: {endpoint, keys: {p256dh, auth}}. A subscription this browser has already (the expert's app, or an earlier
  // chat) is the same one: the worker shows every push it gets.
  function subscribeBrowser(workerUrl, publicKey) {
    if (unsupported()) { return Promise.reject(failure("unsupported")); }
    return Promise.resolve(Notification.requestPermission()).then(function (permission) {
      if (permission !== "granted") { throw failure("denied"); }
      return navigator.serviceWorker.register(workerUrl, { scope: "/" });
    }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        return existing || registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(publicKey)
        });
      });
    }).then(function (subscription) {
      var json = subscription.toJSON();
      return { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } };
    });
  }

  function messageFor(error, texts) {
    if (error && error.kind === "denied") { return texts.textDenied; }
    if (error && error.kind === "unsupported") { return texts.textUnsupported; }
    return texts.textFailed;
  }

  // The opt-in page.
  function runPage(page) {
    var texts = page.dataset;
    var button = page.querySelector("[data-push-allow]");
    var errorSlot = page.querySelector("[data-push-error]");
    function allow() {
      if (button.getAttribute("aria-disabled") === "true") { return; }
      button.setAttribute("aria-disabled", "true");
      errorSlot.textContent = "";
      subscribeBrowser(texts.pushWorker, texts.pushKey).then(function (subscription) {
        return fetch(texts.subscribeUrl, {
          method: "POST", credentials: "same-origin", cache: "no-store",
          headers: { Accept: "application/json", "Content-Type": "application/json" },
          body: JSON.stringify({ token: texts.token, endpoint: subscription.endpoint, keys: subscription.keys })
        }).then(function (response) {
          if (response.status === 404) { throw failure("expired"); }
          if (!response.ok) { throw failure("failed"); }
        });
      }).then(function () {
        page.querySelector("[data-push-ask]").hidden = true;
        var done = page.querySelector("[data-push-done]");
        done.hidden = false;
        done.querySelector("[tabindex]").focus();
      }, function (error) {
        button.removeAttribute("aria-disabled");
        errorSlot.textContent = error && error.kind === "expired" ? texts.textExpired : messageFor(error, texts);
      });
    }
    button.addEventListener("click", allow);
  }

  // The chat frame's box.
  function runWidget(root, box) {
    var widget = window.MarketplaceWidget;
    if (!widget) { return; }
    var texts = box.dataset;
    var embedded = window.top !== window;
    var on = box.querySelector("[data-push-on]");
    var link = box.querySelector("[data-push-link]");
    var enabled = box.querySelector("[data-push-enabled]");
    var off = box.querySelector("[data-push-off]");
    var note = box.querySelector("[data-push-note]");
    var OPEN = {};
    ((root.dataset.statusesQueued || "") + " " + (root.dataset.statusesAssigned || "")).split(" ")
      .forEach(function (status) { if (status) { OPEN[status] = true; } });

    function render(conversation) {
      var open = !!conversation && !!OPEN[conversation.status];
      box.hidden = !open || unsupported();
      if (box.hidden) { return; }
      var pushing = conversation.push_enabled === true;
      on.hidden = pushing;
      enabled.hidden = !pushing;
      if (pushing) {
        link.hidden = true;
        note.textContent = "";
      }
    }

    // A button at work keeps its focus and ignores clicks until done (as in js/widget.js).
    function busy(button, yes) {
      if (yes) { button.setAttribute("aria-disabled", "true"); } else { button.removeAttribute("aria-disabled"); }
    }

    function isBusy(button) { return button.getAttribute("aria-disabled") === "true"; }

    function turnOn() {
      var conversation = widget.conversation();
      if (!conversation || isBusy(on)) { return; }
      busy(on, true);
      note.textContent = "";
      var id = conversation.id;
      var done = embedded ? openPage(id) : subscribeBrowser(texts.pushWorker, texts.pushKey).then(function (subscription) {
        return widget.call("POST", "/conversations/" + id + "/push-subscriptions", subscription).then(widget.adopt);
      });
      done.then(function () { busy(on, false); }, function (error) {
        busy(on, false);
        note.textContent = error && error.detail ? error.detail : messageFor(error, texts);
      });
    }

    // The page opens in a new tab once its link is known: browsers let a click open one for a few seconds after it
    // (the page is ours, so it may know its opener). A browser that blocks it offers the link to click instead.
    function openPage(id) {
      return widget.call("POST", "/conversations/" + id + "/push-opt-in").then(function (answer) {
        link.href = answer.url;
        var opened = window.open(answer.url, "_blank");
        link.hidden = !!opened;
        note.textContent = opened ? texts.textOpened : texts.textBlocked;
      });
    }

    function turnOff() {
      var conversation = widget.conversation();
      if (!conversation || isBusy(off)) { return; }
      busy(off, true);
      widget.call("DELETE", "/conversations/" + conversation.id + "/push-subscriptions", {}).then(function (answer) {
        busy(off, false);
        widget.adopt(answer);
      }, function (error) {
        busy(off, false);
        note.textContent = error.detail || texts.textFailed;
      });
    }

    on.addEventListener("click", turnOn);
    off.addEventListener("click", turnOff);
    root.addEventListener("marketplace:conversation", function (event) { render(event.detail.conversation); });
    render(widget.conversation());
  }

  var page = document.querySelector("[data-push-page]");
  if (page) { runPage(page); }
  var root = document.getElementById("widget");
  var box = root && root.querySelector("[data-push-box]");
  if (box) { runWidget(root, box); }
}());
