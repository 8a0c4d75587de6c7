// The installable app in the page: registers the service worker, runs the push opt-in button
// ([data-push-opt-in] with its [data-push-status]) and shows notifications arriving on the live socket.
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-service-worker]");
  var urls = {
    worker: script.dataset.serviceWorker,
    publicKey: script.dataset.pushKey,
    subscriptions: script.dataset.pushSubscriptions
  };
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  function register() {
    if (!("serviceWorker" in navigator)) { return Promise.resolve(null); }
    return navigator.serviceWorker.register(urls.worker, { scope: "/" }).catch(function (error) {
      console.warn("service worker not registered:", error);
      return null;
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error(method + " " + url + " answered " + response.status); }
      return response;
    });
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function save(subscription) {
    var json = subscription.toJSON();
    return send("POST", urls.subscriptions, { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } });
  }

  function currentSubscription() {
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    });
  }

  function enable() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { return permission === "denied" ? "denied" : "off"; }
      return Promise.all([
        navigator.serviceWorker.ready,
        fetch(urls.publicKey, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) { throw new Error("the push key answered " + response.status); }
          return response.json();
        })
      ]).then(function (results) {
        var registration = results[0];
        return registration.pushManager.getSubscription().then(function (old) {
          // A subscription made with an older server key cannot be reused: start afresh.
          return old ? old.unsubscribe() : true;
        }).then(function () {
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(results[1].public_key)
          });
        });
      }).then(save).then(function () { return "on"; });
    });
  }

  function disable() {
    return currentSubscription().then(function (subscription) {
      if (!subscription) { return "off"; }
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return send("DELETE", urls.subscriptions, { endpoint: endpoint });
      }).then(function () { return "off"; });
    });
  }

  function state() {
    if (!supported) { return Promise.resolve("unsupported"); }
    if (Notification.permission === "denied") { return Promise.resolve("denied"); }
    return currentSubscription().then(function (subscription) {
      if (!subscription || Notification.permission !== "granted") { return "off"; }
      // The browser decides who receives its pushes: tell the server it is now this person's device.
      return save(subscription).then(function () { return "on"; }, function () { return "on"; });
    });
  }

  function setUpOptIn(button) {
    var status = document.querySelector("[data-push-status]");
    function show(current) {
      button.dataset.state = current;
      button.hidden = current === "unsupported" || current === "denied";
      button.disabled = current === "working";
      if (current !== "working") {
        button.textContent = current === "on" ? button.dataset.labelDisable : button.dataset.labelEnable;
      }
      if (status) { status.textContent = status.dataset["label" + current.charAt(0).toUpperCase() + current.slice(1)] || ""; }
    }
    button.addEventListener("click", function () {
      var action = button.dataset.state === "on" ? disable : enable;
      show("working");
      action().then(show, function (error) {
        console.warn("push subscription failed:", error);
        show("failed");
      });
    });
    state().then(show, function () { show("off"); });
  }

  function showArrival(event) {
    document.querySelectorAll("[data-notification-count]").forEach(function (counter) {
      var count = (parseInt(counter.dataset.notificationCount, 10) || 0) + 1;
      counter.dataset.notificationCount = String(count);
      counter.textContent = String(count);
      counter.hidden = false;
      var badge = counter.closest("[data-notification-badge]");
      if (badge) { badge.hidden = false; }
    });
    document.querySelectorAll("[data-notification-read-all]").forEach(function (form) { form.hidden = false; });
    document.querySelectorAll("[data-notification-empty]").forEach(function (note) { note.hidden = true; });
    document.querySelectorAll("[data-notification-list]").forEach(function (list) {
      var item = document.createElement("li");
      item.className = "list__item notification notification--unread notification--new";
      item.dataset.notificationId = String(event.id);
      var title = document.createElement(event.url ? "a" : "strong");
      title.className = "notification__title";
      title.textContent = event.title;
      if (event.url) { title.href = event.url; }
      item.appendChild(title);
      if (event.body) {
        var body = document.createElement("p");
        body.className = "notification__body";
        body.textContent = event.body;
        item.appendChild(body);
      }
      var time = document.createElement("time");
      time.className = "notification__time";
      time.dateTime = event.created_at;
      time.textContent = list.dataset.labelNow || "";
      item.appendChild(time);
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 10) { list.removeChild(list.lastChild); }
    });
  }

  register();
  var button = document.querySelector("[data-push-opt-in]");
  if (button) { setUpOptIn(button); }
  if (window.marketplaceSocket) { window.marketplaceSocket.on("notification", showArrival); }
  if (document.querySelector("[data-offline-page]")) {
    // The offline page stands in for the page that failed: load that page again once we are back online.
    window.addEventListener("online", function () { window.location.reload(); });
  }
  window.marketplacePush = { enable: enable, disable: disable, state: state };
})();
