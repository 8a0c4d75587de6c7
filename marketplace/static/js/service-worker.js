// The installable app's service worker: an offline page when the network is gone, and Web Push notifications.
// Pages are never cached (they are personal); only the offline page and the files it needs are.
"use strict";

const CACHE = "marketplace-v1";
const OFFLINE_URL = "/offline";
const PRECACHE = [
  OFFLINE_URL,
  "/static/css/app.css",
  "/static/css/shifts.css",
  "/static/css/pwa.css",
  "/static/js/pwa.js",
  "/static/favicon.svg",
  "/static/icons/icon-192.png",
];
const ICON = "/static/icons/icon-192.png";
const BADGE = "/static/icons/badge-96.png";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => Promise.all(PRECACHE.map((url) =>
      // Without cookies: the offline page must show no one's name or session. A file that fails to
      // load must not keep the worker from installing.
      cache.add(new Request(url, { credentials: "omit" })).catch(() => undefined)
    ))).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    // Network first, always: the offline page only when there is no network at all.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL, { ignoreVary: true })));
    return;
  }
  if (PRECACHE.includes(new URL(request.url).pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(request, { ignoreVary: true })));
  }
});

self.addEventListener("push", (event) => {
  let message;
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { title: event.data.text() };
  }
  const options = {
    body: message.body || "",
    icon: ICON,
    badge: BADGE,
    data: { url: message.url || "/" },
  };
  if (message.id) { options.tag = "notification-" + message.id; }  // a push delivered twice shows once
  event.waitUntil(self.registration.showNotification(message.title || "Marketplace", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) { target = new URL("/", self.location.origin); }  // our pages only
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === target.href && "focus" in client);
      return open ? open.focus() : self.clients.openWindow(target.href);
    })
  );
});
