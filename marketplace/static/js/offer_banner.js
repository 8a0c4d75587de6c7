// Offers interrupt wherever the expert is: every pending offer shows in a banner fixed in view on every expert
// page, an open chat included, with the brand, topic, countdown and what the chat pays, and Accept / Decline.
// Its arrival also changes the page title (and the app badge), and plays a tone and vibrates where the device
// allows and the expert has not turned that off (the status bar's setting). Offers come on the page's socket
// (`offer`, `offer_gone`); the expert's inbox is asked for after each (re)connection, so an offer made while
// the page was away still shows. Accepting on the Chats page hands the chat to it
// (`marketplace:chat-accepted`); elsewhere it opens the Chats page on that chat.
(function () {
  "use strict";
  var root = document.getElementById("offer-banner");
  var socket = window.marketplaceSocket || null;
  if (!root || !socket) { return; }
  var labels = root.dataset;
  var list = root.querySelector("[data-offer-list]");
  var announcer = root.querySelector("[data-offer-announce]");
  var template = document.getElementById("offer-banner-template");
  var lang = document.documentElement.lang || undefined;
  var baseTitle = document.title;
  var TICK_MS = 250;
  var parseTime = MarketplaceClock.parseTime;
  var offers = {};  // offer_id -> {offer, node, deadline, busy, seconds, addedAt}
  var generation = 0;

  function format(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  // Amounts come in minor units with the currency's number of decimals (2 for euros, 0 for yen).
  function money(minor, pay) {
    var decimals = typeof pay.decimals === "number" ? pay.decimals : 2;
    var amount = minor / Math.pow(10, decimals);
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: pay.currency,
        minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(amount);
    } catch (e) {
      return amount.toFixed(decimals) + " " + pay.currency;
    }
  }

  function payText(pay) {
    if (!pay) { return ""; }
    return format(labels.labelPay, { amount: money(pay.amount_cents, pay) });
  }

  function bonusText(pay) {
    if (!pay || !pay.bonuses) { return ""; }
    return pay.bonuses.map(function (bonus) {
      var template = bonus.kind === "rating_at_least" ? labels.labelBonusRating : labels.labelBonusReply;
      return format(template, { amount: money(bonus.bonus_cents, pay), value: bonus.value });
    }).join(" · ");
  }

  // The visitor's page, short: host and path, never more than a line.
  function pageText(url) {
    if (!url || !/^https?:\/\//i.test(url)) { return ""; }
    var shown = url.replace(/^https?:\/\//i, "");
    return shown.length > 60 ? shown.slice(0, 59) + "…" : shown;
  }

  function brandName(offer) { return offer.brand ? offer.brand.name : ""; }

  function announce(text) {
    announcer.textContent = "";
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function field(node, name) { return node.querySelector("[data-field=" + name + "]"); }

  function render() {
    var count = Object.keys(offers).length;
    root.hidden = count === 0;
    document.title = count ? "(" + count + ") " + labels.labelTitle + " · " + baseTitle : baseTitle;
    if (navigator.setAppBadge) {
      (count ? navigator.setAppBadge(count) : navigator.clearAppBadge()).catch(function () {});
    }
  }

  // A short two-note tone (no audio file to fetch) and a buzz; the browser may refuse both before the
  // first tap on the page, which is fine: the banner and the title still say it.
  function alert() {
    if (window.marketplaceAlerts && !window.marketplaceAlerts.on()) { return; }
    // Browsers allow a buzz only once the person has tapped the page (asking earlier logs an error).
    var tapped = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (navigator.vibrate && tapped) { try { navigator.vibrate([200, 100, 200]); } catch (e) { /* not allowed */ } }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var context = alert.context || (alert.context = new Context());
      [0, 0.18].forEach(function (at, index) {
        var tone = context.createOscillator();
        var gain = context.createGain();
        tone.frequency.value = index ? 988 : 784;
        gain.gain.setValueAtTime(0.001, context.currentTime + at);
        gain.gain.exponentialRampToValueAtTime(0.2, context.currentTime + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.001, context.currentTime + at + 0.16);
        tone.connect(gain).connect(context.destination);
        tone.start(context.currentTime + at);
        tone.stop(context.currentTime + at + 0.17);
      });
    } catch (e) { /* no sound on this device */ }
  }

  function add(offer, fromEvent) {
    var id = String(offer.offer_id);
    if (offers[id]) { return false; }
    var deadline = fromEvent && typeof offer.timeout_seconds === "number"
      ? Date.now() + offer.timeout_seconds * 1000 : parseTime(offer.expires_at) - window.marketplaceApp.clockOffsetMs();
    if (isNaN(deadline) || deadline <= Date.now()) { return false; }
    var node = template.content.firstElementChild.cloneNode(true);
    var brand = brandName(offer);
    node.dataset.offerId = id;
    field(node, "brand").textContent = brand;
    // A messaging app's customer (asynchronous by nature, with Meta's reply window) is named as such.
    var app = offer.channel === "whatsapp" ? labels.labelWhatsapp : offer.channel === "messenger" ? labels.labelMessenger : "";
    field(node, "channel").textContent = app ? "· " + app : "";
    field(node, "channel").hidden = !app;
    field(node, "topic").textContent = offer.topic || labels.labelNoTopic;
    field(node, "page").textContent = pageText(offer.page_url);
    field(node, "page").hidden = !pageText(offer.page_url);
    field(node, "pay").textContent = payText(offer.pay);
    field(node, "bonuses").textContent = bonusText(offer.pay);
    var accept = node.querySelector("[data-testid=accept-offer]");
    var decline = node.querySelector("[data-testid=decline-offer]");
    accept.setAttribute("aria-label", format(labels.labelAccept, { brand: brand }));
    decline.setAttribute("aria-label", format(labels.labelDecline, { brand: brand }));
    accept.addEventListener("click", function () { answer(id, true); });
    decline.addEventListener("click", function () { answer(id, false); });
    offers[id] = { offer: offer, node: node, deadline: deadline, busy: false, seconds: null, addedAt: Date.now() };
    list.appendChild(node);
    tick();
    render();
    return true;
  }

  function remove(id) {
    var entry = offers[id];
    if (!entry) { return; }
    entry.node.remove();
    delete offers[id];
    render();
  }

  function busy(entry, on) {
    entry.busy = on;
    Array.prototype.forEach.call(entry.node.querySelectorAll("button"), function (button) { button.disabled = on; });
  }

  function onChatsPage() { return !!document.getElementById("inbox"); }

  function answer(id, accepting) {
    var entry = offers[id];
    if (!entry || entry.busy) { return; }
    var error = field(entry.node, "error");
    if (!socket.connected) {
      error.textContent = labels.labelDisconnected;
      error.hidden = false;
      return;
    }
    busy(entry, true);
    socket.emit(accepting ? "offer_accept" : "offer_decline", { offer_id: entry.offer.offer_id }, function (reply) {
      remove(id);  // accepted, declined or already gone: it is no longer an offer either way
      if (!reply || !reply.ok) {
        announce((reply && reply.error) || labels.labelError);
        return;
      }
      if (!accepting || !reply.chat) { return; }
      if (onChatsPage()) {
        document.dispatchEvent(new CustomEvent("marketplace:chat-accepted", { detail: { chat: reply.chat } }));
      } else {
        window.location.assign(labels.chatsUrl + "?chat=" + encodeURIComponent(reply.chat.conversation_id));
      }
    });
  }

  function tick() {
    var now = Date.now();
    Object.keys(offers).forEach(function (id) {
      var entry = offers[id];
      var seconds = Math.max(0, Math.ceil((entry.deadline - now) / 1000));
      if (seconds === 0 && !entry.busy) {  // an answer on its way decides instead
        remove(id);
        announce(format(labels.labelExpired, { brand: brandName(entry.offer) }));
        return;
      }
      if (entry.seconds === seconds) { return; }
      entry.seconds = seconds;
      entry.node.querySelector("[data-testid=offer-countdown]").textContent = format(labels.labelCountdown, { seconds: seconds });
      entry.node.classList.toggle("offer-card--urgent", seconds <= 10);
    });
  }

  function onOffer(offer) {
    if (!offer || offer.offer_id == null) { return; }
    if (add(offer, true)) {
      announce(format(labels.labelNewOffer, { brand: brandName(offer), pay: payText(offer.pay) }));
      alert();
    }
  }

  function onGone(event) {
    var id = String(event && event.offer_id);
    var entry = offers[id];
    if (!entry || entry.busy) { return; }
    remove(id);
    if (event.reason === "expired") { announce(format(labels.labelExpired, { brand: brandName(entry.offer) })); }
    if (event.reason === "rescinded") { announce(format(labels.labelRescinded, { brand: brandName(entry.offer) })); }
  }

  // After each (re)connection: the offers pending now (events sent while disconnected are not replayed).
  function catchUp() {
    if (!window.marketplaceApp) { return; }
    var mine = ++generation;
    window.marketplaceApp.inbox().then(function (answer) {
      if (mine !== generation) { return; }
      var pending = {};
      (answer.inbox.offers || []).forEach(function (offer) {
        pending[String(offer.offer_id)] = true;
        if (add(offer, false)) { alert(); }
      });
      Object.keys(offers).forEach(function (id) {
        if (!pending[id] && !offers[id].busy && offers[id].addedAt < answer.askedAt) { remove(id); }
      });
    }, function () { /* what is shown stays; the next connection asks again */ });
  }

  socket.on("offer", onOffer);
  socket.on("offer_gone", onGone);
  socket.on("connect", catchUp);
  if (socket.connected) { catchUp(); }
  setInterval(tick, TICK_MS);
})();
