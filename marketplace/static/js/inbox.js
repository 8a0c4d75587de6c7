// The expert's chats on their phone: offers counting down, several chats at once, each message shown once, by seq.
// Everything travels on the page's socket (routing/README.md). Events missed while disconnected are not replayed,
// so each (re)connection catches up: every chat's messages after the last one held, and the inbox for offers
// and chats; the expert's own messages wait as "sending" and are sent again, with the same client id, until answered.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  var initial = document.getElementById("inbox-data");
  if (!root || !initial) { return; }
  var TYPING_EVERY_MS = 3000;  // the expert's typing is signalled at most this often
  var TYPING_SHOWN_MS = 4000;  // the visitor's typing signal shows this long
  var SYNC_BATCH = 500;        // the server's largest answer (chat.MAX_BATCH): a full one means ask again
  var CLOCK_SLACK_MS = 2000;   // smaller clock differences are noise (the Date header counts whole seconds)
  var BODY_LENGTH = 2000;
  var TICK_MS = 250;           // often enough that the countdown turns with the second, not up to one late
  var STATUS_SHOWN_MS = 10000; // a notice (offer expired, chat ended) goes once it is stale

  var labels = root.dataset;
  var socket = window.marketplaceSocket || null;
  var lang = document.documentElement.lang || undefined;
  var clock = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
  var enterAddsLine = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;  // phone keyboards
  var pane = root.querySelector("[data-conversation]");
  var ui = {
    status: root.querySelector("[data-inbox-status]"),
    presenceNotice: root.querySelector("[data-presence-notice]"),
    offers: root.querySelector("[data-offers]"),
    offerList: root.querySelector("[data-offer-list]"),
    chatList: root.querySelector("[data-chat-list]"),
    chatsEmpty: root.querySelector("[data-chats-empty]"),
    placeholder: root.querySelector("[data-conversation-placeholder]"),
    title: pane.querySelector("#conversation-title"),
    rating: pane.querySelector("[data-field=rating]"),
    log: pane.querySelector("[data-testid=chat-messages]"),
    typing: pane.querySelector("[data-testid=typing-indicator]"),
    ended: pane.querySelector("[data-ended]"),
    close: pane.querySelector("[data-testid=close-chat]"),
    confirmClose: pane.querySelector("[data-testid=confirm-close]"),
    cancelClose: pane.querySelector("[data-cancel-close]"),
    dismiss: pane.querySelector("[data-testid=dismiss-chat]"),
    form: pane.querySelector("[data-composer]"),
    cannedField: pane.querySelector("[data-canned-field]"),
    canned: pane.querySelector("[data-testid=canned-answers]"),
    input: pane.querySelector("[data-testid=chat-input]"),
    inputError: pane.querySelector("[data-input-error]"),
    send: pane.querySelector("[data-testid=chat-send]")
  };

  var offers = {};         // offer_id -> {offer, node, countdown, deadline, fromEvent, addedAt, busy}
  var chats = {};          // conversation_id -> chat state (newChat)
  var cannedAnswers = {};  // brand id (string) -> [{title, body}]
  var cannedAsked = {};    // brand ids whose answers were fetched for once already
  var selected = null;
  var clockOffsetMs = 0;   // server time minus this device's time, so a wrong phone clock counts down right
  var generation = 0;

  // Small helpers.

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function parseTime(text) {
    if (!text) { return NaN; }
    return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : text + "Z");
  }

  function learnServerTime(serverNow) {
    var offset = serverNow - Date.now();
    clockOffsetMs = Math.abs(offset) > CLOCK_SLACK_MS ? offset : 0;
  }

  function connected() { return !!(socket && socket.connected); }

  function noop() {}

  var announceTimer = null;
  function announce(text) {
    if (!ui.status || !text) { return; }
    ui.status.textContent = "";
    clearTimeout(announceTimer);
    setTimeout(function () { ui.status.textContent = text; }, 50);  // the same text twice is still read out
    announceTimer = setTimeout(function () { ui.status.textContent = ""; }, STATUS_SHOWN_MS);
  }

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function field(node, name) { return node.querySelector("[data-field=" + name + "]"); }

  function showPage(node, url) {
    var link = field(node, "page");
    var line = link.closest("[data-page-line]");
    var valid = !!url && /^https?:\/\//i.test(url);
    line.hidden = !valid;
    if (!valid) { link.removeAttribute("href"); return; }
    var shown = url.replace(/^https?:\/\//i, "");
    link.href = url;
    link.title = url;
    link.textContent = shown.length > 60 ? shown.slice(0, 59) + "…" : shown;
  }

  function newClientId() {
    var bytes = new Uint8Array(12);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    return "e-" + Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  // Offers.

  function addOffer(offer, fromEvent) {
    var id = String(offer.offer_id);
    var known = offers[id];
    if (known) {
      if (!known.fromEvent) { known.deadline = parseTime(offer.expires_at) - clockOffsetMs; }
      return;
    }
    var deadline = fromEvent && typeof offer.timeout_seconds === "number"
      ? Date.now() + offer.timeout_seconds * 1000 : parseTime(offer.expires_at) - clockOffsetMs;
    if (isNaN(deadline) || deadline <= Date.now()) { return; }
    var node = fromTemplate("offer-template");
    var brand = offer.brand ? offer.brand.name : "";
    node.dataset.offerId = id;
    field(node, "brand").textContent = brand;
    field(node, "topic").textContent = offer.topic || labels.labelNoTopic;
    showPage(node, offer.page_url);
    var accept = node.querySelector("[data-testid=accept-offer]");
    var decline = node.querySelector("[data-testid=decline-offer]");
    accept.setAttribute("aria-label", format(labels.labelAccept, { brand: brand }));
    decline.setAttribute("aria-label", format(labels.labelDecline, { brand: brand }));
    accept.addEventListener("click", function () { answerOffer(id, true); });
    decline.addEventListener("click", function () { answerOffer(id, false); });
    offers[id] = { offer: offer, node: node, countdown: node.querySelector("[data-testid=offer-countdown]"),
                   deadline: deadline, fromEvent: !!fromEvent, addedAt: Date.now(), busy: false };
    ui.offerList.appendChild(node);
    tick();
    renderOffers();
  }

  function removeOffer(id) {
    var entry = offers[id];
    if (!entry) { return; }
    entry.node.remove();
    delete offers[id];
    renderOffers();
  }

  function renderOffers() {
    ui.offers.hidden = Object.keys(offers).length === 0;
  }

  function setOfferBusy(entry, busy) {
    entry.busy = busy;
    Array.prototype.forEach.call(entry.node.querySelectorAll("button"), function (button) { button.disabled = busy; });
  }

  function answerOffer(id, accepting) {
    var entry = offers[id];
    if (!entry || entry.busy) { return; }
    if (!connected()) { announce(labels.labelDisconnected); return; }
    setOfferBusy(entry, true);
    var offerId = entry.offer.offer_id;
    socket.emit(accepting ? "offer_accept" : "offer_decline", { offer_id: offerId }, function (answer) {
      removeOffer(id);  // accepted, declined or already gone: either way it is no longer an offer
      if (!answer || !answer.ok) {
        announce((answer && answer.error) || labels.labelError);
      } else if (accepting && answer.chat) {
        var chat = upsertChat(answer.chat);
        announce(format(labels.labelChatStarted, { brand: chat.summary.brand.name }));
        select(chat, true);
      }
    });
  }

  function tick() {
    var now = Date.now();
    Object.keys(offers).forEach(function (id) {
      var entry = offers[id];
      var seconds = Math.max(0, Math.ceil((entry.deadline - now) / 1000));
      if (seconds === 0 && !entry.busy) {  // an answer on its way decides instead
        removeOffer(id);
        announce(format(labels.labelOfferExpired, { brand: entry.offer.brand ? entry.offer.brand.name : "" }));
        return;
      }
      if (entry.seconds === seconds) { return; }
      entry.seconds = seconds;
      entry.countdown.textContent = format(labels.labelCountdown, { seconds: seconds });
      entry.node.classList.toggle("offer--urgent", seconds <= 10);
    });
  }

  // Chats.

  function newChat(summary) {
    var item = fromTemplate("chat-item-template");
    var chat = {
      id: String(summary.conversation_id), summary: summary, entry: item,
      button: item.querySelector("[data-testid=chat-item]"),
      messages: {},        // seq -> element, each seq shown once
      seqs: [],            // the seqs held, in order
      lastSeq: 0,          // the highest seq held
      contiguous: 0,       // every seq up to this one is held: sync asks for what comes after it
      readSeq: summary.read_seq || 0,
      unread: 0,
      serverUnread: summary.unread || 0,  // shown until the chat's messages are loaded
      loaded: false, syncing: false, syncAgain: false,
      outbox: [],          // own messages not numbered yet, in the order written: {clientId, body, node, failed}
      typingUntil: 0, typingSentAt: 0, confirming: false, closing: false, draft: "", createdAt: Date.now()
    };
    chat.button.dataset.conversationId = chat.id;
    chat.button.addEventListener("click", function () { select(chat, true); });
    return chat;
  }

  function isClosed(chat) { return chat.summary.status !== "active"; }

  function upsertChat(summary) {
    var id = String(summary.conversation_id);
    var chat = chats[id];
    if (!chat) {
      chat = chats[id] = newChat(summary);
      ui.chatList.appendChild(chat.entry);
      sync(chat);
      wantCanned(summary.brand);
    } else {
      var wasOpen = !isClosed(chat);
      if (!wasOpen && summary.status === "active") { return chat; }  // a late, older answer: an ended chat stays ended
      chat.summary = summary;
      chat.readSeq = Math.max(chat.readSeq, summary.read_seq || 0);
      if (wasOpen && isClosed(chat) && !chat.closing) {
        announce(format(labels.labelChatEnded, { brand: summary.brand.name }));
      }
    }
    renderChatItem(chat);
    renderChatList();
    if (chat === selected) { renderPane(); }
    return chat;
  }

  function unreadCount(chat) {
    return chat.loaded ? chat.unread : Math.max(chat.unread, chat.serverUnread);
  }

  function renderChatItem(chat) {
    var summary = chat.summary;
    var count = unreadCount(chat);
    field(chat.button, "brand").textContent = summary.brand.name;
    field(chat.button, "topic").textContent = summary.topic || labels.labelNoTopic;
    field(chat.button, "closed").hidden = !isClosed(chat);
    chat.button.classList.toggle("chat-item--closed", isClosed(chat));
    var badge = chat.button.querySelector("[data-testid=unread]");
    badge.textContent = String(count);
    badge.hidden = count === 0;
    field(chat.button, "unread-text").textContent = count ? format(labels.labelUnread, { count: count }) : "";
    if (chat === selected) { chat.button.setAttribute("aria-current", "true"); } else { chat.button.removeAttribute("aria-current"); }
  }

  function renderChatList() {
    ui.chatsEmpty.hidden = Object.keys(chats).length > 0;
  }

  // Messages.

  function messageNode(sender, body) {
    var node = document.createElement("div");
    node.className = "message message--" + sender;
    node.dataset.sender = sender;
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (labels["labelSender" + sender.charAt(0).toUpperCase() + sender.slice(1)] || sender) + ": ";
    var text = document.createElement("p");
    text.className = "message__body";
    text.textContent = body;
    var meta = document.createElement("p");
    meta.className = "message__meta";
    var time = document.createElement("time");
    var state = document.createElement("span");
    state.className = "message__state";
    meta.appendChild(time);
    meta.appendChild(state);
    node.appendChild(who);
    node.appendChild(text);
    node.appendChild(meta);
    return node;
  }

  function stamp(node, message) {
    var when = parseTime(message.created_at);
    var time = node.querySelector("time");
    if (!isNaN(when)) {
      time.dateTime = new Date(when).toISOString();
      time.textContent = clock.format(new Date(when));
    }
  }

  function setMessageState(node, text, failed) {
    node.classList.toggle("message--pending", !failed && !!text);
    node.classList.toggle("message--failed", !!failed);
    node.querySelector(".message__state").textContent = text || "";
  }

  function watching(chat) {
    return chat === selected && document.visibilityState !== "hidden";
  }

  function nearBottom() {
    return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  }

  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }

  function placeInLog(chat, node, seq) {
    var index = chat.seqs.indexOf(seq);
    var next = index >= 0 && index + 1 < chat.seqs.length ? chat.messages[chat.seqs[index + 1]] : null;
    if (!next) {  // numbered messages come before the ones still unanswered
      var waiting = chat.outbox.filter(function (item) { return item.node.parentNode === ui.log; })[0];
      next = waiting ? waiting.node : null;
    }
    ui.log.insertBefore(node, next);
  }

  function insertSeq(chat, seq) {
    var seqs = chat.seqs;
    var at = seqs.length;
    while (at > 0 && seqs[at - 1] > seq) { at--; }
    seqs.splice(at, 0, seq);
  }

  function outgoing(chat, clientId) {
    return chat.outbox.filter(function (item) { return item.clientId === clientId; })[0] || null;
  }

  // Show one message in its place; false when its seq is already shown.
  function addMessage(chat, message) {
    var seq = message.seq;
    if (typeof seq !== "number" || seq < 1 || chat.messages[seq]) { return false; }
    var own = message.sender === "expert" && message.client_id ? outgoing(chat, message.client_id) : null;
    var node;
    if (own) {
      node = own.node;
      chat.outbox.splice(chat.outbox.indexOf(own), 1);
      setMessageState(node, "", false);
      node.querySelector(".message__body").textContent = message.body;  // as stored: any markup is stripped
      if (node.parentNode) { node.parentNode.removeChild(node); }
    } else {
      node = messageNode(message.sender, message.body);
    }
    node.dataset.seq = String(seq);
    stamp(node, message);
    chat.messages[seq] = node;
    insertSeq(chat, seq);
    chat.lastSeq = Math.max(chat.lastSeq, seq);
    while (chat.messages[chat.contiguous + 1]) { chat.contiguous++; }
    if (message.sender === "visitor") {
      chat.typingUntil = 0;
      if (seq > chat.readSeq && !watching(chat)) { chat.unread++; }
    }
    if (chat === selected) {
      var follow = !!own || nearBottom();
      placeInLog(chat, node, seq);
      if (follow) { scrollToEnd(); }
    }
    return true;
  }

  function receive(chat, messages) {
    var added = false;
    messages.forEach(function (message) { added = addMessage(chat, message) || added; });
    if (added) {
      renderChatItem(chat);
      if (chat === selected) { renderTyping(); }
    }
    markRead(chat);
  }

  function sync(chat) {
    if (!socket) { syncOverHttp(chat); return; }
    if (!connected()) { return; }  // the next connection syncs every chat
    if (chat.syncing) { chat.syncAgain = true; return; }
    chat.syncing = true;
    chat.syncAgain = false;
    socket.emit("chat_sync", { conversation_id: Number(chat.id), after_seq: chat.contiguous }, function (answer) {
      chat.syncing = false;
      if (!answer || !answer.ok) { return; }
      var messages = answer.messages || [];
      if (messages.length < SYNC_BATCH) { chat.loaded = true; }
      receive(chat, messages);
      if (messages.length >= SYNC_BATCH || chat.syncAgain) { sync(chat); }
    });
  }

  // Without the socket (its library did not load), messages can still be read over the API.
  function syncOverHttp(chat) {
    var url = labels.apiBase + "/conversations/" + encodeURIComponent(chat.id) + "/messages?after=" + chat.contiguous;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("messages answered " + response.status); }
        return response.json();
      })
      .then(function (answer) {
        chat.loaded = true;
        receive(chat, answer.messages || []);
      })
      .catch(noop);
  }

  function markRead(chat) {
    if (!watching(chat)) { return; }
    chat.unread = 0;
    chat.serverUnread = 0;
    renderChatItem(chat);
    if (chat.lastSeq > chat.readSeq && connected()) {
      chat.readSeq = chat.lastSeq;
      socket.emit("chat_read", { conversation_id: Number(chat.id), seq: chat.lastSeq }, noop);
    }
  }

  // Sending: shown at once, kept until the server answers, sent again after each reconnection.

  function send(chat, body) {
    var item = { clientId: newClientId(), body: body, node: messageNode("expert", body), failed: false };
    item.node.dataset.clientId = item.clientId;
    setMessageState(item.node, labels.labelSending, false);
    chat.outbox.push(item);
    if (chat === selected) { ui.log.appendChild(item.node); scrollToEnd(); }
    transmit(chat, item);
  }

  function transmit(chat, item) {
    if (item.failed || !connected()) { return; }  // unsent ones go at the next connection
    socket.emit("chat_send", { conversation_id: Number(chat.id), client_id: item.clientId, body: item.body },
      function (answer) {
        if (chat.outbox.indexOf(item) < 0) { return; }  // the message event showed it first
        if (answer && answer.ok && answer.message) {
          receive(chat, [answer.message]);
        } else {  // refused (the chat ended, say): shown as not sent, never sent again
          item.failed = true;
          setMessageState(item.node, format(labels.labelFailed, { error: (answer && answer.error) || labels.labelError }), true);
        }
      });
  }

  // The conversation pane.

  function renderPane() {
    var chat = selected;
    root.classList.toggle("inbox--chat-open", !!chat);
    pane.hidden = !chat;
    ui.placeholder.hidden = !!chat;
    if (!chat) { return; }
    var summary = chat.summary;
    var closed = isClosed(chat);
    field(pane, "brand").textContent = summary.brand.name;
    field(pane, "topic").textContent = summary.topic || labels.labelNoTopic;
    showPage(pane, summary.page_url);
    ui.rating.hidden = summary.visitor_rating == null;
    ui.rating.textContent = summary.visitor_rating == null ? "" : format(labels.labelRating, { rating: summary.visitor_rating });
    ui.ended.hidden = !closed;
    ui.close.hidden = closed || chat.confirming;
    ui.confirmClose.hidden = closed || !chat.confirming;
    ui.cancelClose.hidden = closed || !chat.confirming;
    ui.dismiss.hidden = !closed;
    ui.input.disabled = closed;
    ui.send.disabled = closed || !socket;  // without the socket, chats can be read but not answered
    ui.canned.disabled = closed;
    renderTyping();
  }

  function renderCanned(chat) {
    var answers = cannedAnswers[String(chat.summary.brand.id)] || [];
    while (ui.canned.options.length > 1) { ui.canned.remove(1); }
    answers.forEach(function (answer, index) {
      ui.canned.add(new Option(answer.title, String(index)));
    });
    ui.canned.value = "";
    ui.cannedField.hidden = answers.length === 0;
  }

  function renderTyping() {
    ui.typing.hidden = !(selected && !isClosed(selected) && selected.typingUntil > Date.now());
  }

  var logQuietTimer = null;
  function renderLog(chat) {
    // Switching chats is not news: the log is silent while it fills with the other chat's messages.
    ui.log.setAttribute("aria-live", "off");
    var nodes = chat.seqs.map(function (seq) { return chat.messages[seq]; })
      .concat(chat.outbox.map(function (item) { return item.node; }));
    ui.log.replaceChildren.apply(ui.log, nodes);
    scrollToEnd();
    clearTimeout(logQuietTimer);
    logQuietTimer = setTimeout(function () { ui.log.setAttribute("aria-live", "polite"); }, 100);
  }

  function select(chat, moveFocus) {
    if (selected && selected !== chat) {
      selected.draft = ui.input.value;
      selected.confirming = false;
    }
    var previous = selected;
    selected = chat;
    if (previous && previous !== chat) { renderChatItem(previous); }
    if (chat) {
      chat.confirming = false;
      if (previous !== chat) {
        ui.input.value = chat.draft || "";
        ui.inputError.textContent = "";
        renderLog(chat);
      }
      renderCanned(chat);
      renderChatItem(chat);
    }
    renderPane();
    if (chat) {
      // On a phone the list is now a strip of tabs: bring the open chat's tab into sight.
      if (chat.button.scrollIntoView) { chat.button.scrollIntoView({ block: "nearest", inline: "nearest" }); }
      markRead(chat);
      if (moveFocus) { ui.title.focus(); }
    } else if (moveFocus && previous && chats[previous.id]) {
      previous.button.focus();
    }
  }

  function removeChat(chat) {
    if (chat === selected) { select(null, false); }
    chat.entry.remove();
    delete chats[chat.id];
    renderChatList();
  }

  function submit(event) {
    event.preventDefault();
    var chat = selected;
    if (!chat || isClosed(chat)) { return; }
    var body = ui.input.value.trim();
    if (!body) { ui.input.focus(); return; }
    if (body.length > BODY_LENGTH) {
      ui.inputError.textContent = format(labels.labelTooLong, { count: BODY_LENGTH });
      ui.input.setAttribute("aria-invalid", "true");
      ui.input.focus();
      return;
    }
    ui.inputError.textContent = "";
    ui.input.removeAttribute("aria-invalid");
    ui.input.value = "";
    chat.draft = "";
    send(chat, body);
    ui.input.focus();
  }

  function insertCanned() {
    var chat = selected;
    var answers = chat ? cannedAnswers[String(chat.summary.brand.id)] || [] : [];
    var answer = ui.canned.value === "" ? null : answers[Number(ui.canned.value)];
    ui.canned.value = "";
    if (!answer) { return; }
    ui.input.setRangeText(answer.body, ui.input.selectionStart, ui.input.selectionEnd, "end");  // at the caret
    ui.input.focus();
  }

  function typed() {
    var chat = selected;
    if (!chat || isClosed(chat) || !ui.input.value.trim() || !connected()) { return; }
    var now = Date.now();
    if (now - chat.typingSentAt < TYPING_EVERY_MS) { return; }
    chat.typingSentAt = now;
    socket.emit("chat_typing", { conversation_id: Number(chat.id) }, noop);
  }

  function closeChat() {
    var chat = selected;
    if (!chat || isClosed(chat) || chat.closing) { return; }
    if (!connected()) { announce(labels.labelDisconnected); return; }
    chat.closing = true;
    ui.confirmClose.disabled = true;
    socket.emit("chat_close", { conversation_id: Number(chat.id) }, function (answer) {
      ui.confirmClose.disabled = false;
      chat.confirming = false;
      if (answer && answer.ok && answer.chat) {
        upsertChat(answer.chat);
      } else {
        chat.closing = false;
        announce((answer && answer.error) || labels.labelError);
        if (chat === selected) { renderPane(); }
      }
    });
  }

  function confirming(on) {
    if (!selected) { return; }
    selected.confirming = on;
    renderPane();
    (on ? ui.confirmClose : ui.close).focus();
  }

  // The inbox, fetched after each (re)connection: offers and chats that came or went meanwhile.

  function merge(inbox, askedAt) {
    Object.keys(inbox.canned_answers || {}).forEach(function (brandId) {
      cannedAnswers[brandId] = inbox.canned_answers[brandId];
    });
    var offerIds = {};
    (inbox.offers || []).forEach(function (offer) {
      offerIds[String(offer.offer_id)] = true;
      addOffer(offer, false);
    });
    Object.keys(offers).forEach(function (id) {
      if (!offerIds[id] && offers[id].addedAt < askedAt) { removeOffer(id); }  // gone while we were away
    });
    var chatIds = {};
    (inbox.chats || []).forEach(function (summary) {
      chatIds[String(summary.conversation_id)] = true;
      upsertChat(summary);
    });
    Object.keys(chats).forEach(function (id) {
      var chat = chats[id];
      if (!chatIds[id] && !isClosed(chat) && chat.createdAt < askedAt) {
        // It ended while we were away (the inbox lists open chats only); its closing event was missed.
        var summary = Object.assign({}, chat.summary, { status: "closed" });
        upsertChat(summary);
      }
    });
    if (selected) { renderCanned(selected); }
  }

  // A brand seen for the first time (a new offer): its canned answers come with the inbox, asked for once.
  function wantCanned(brand) {
    var key = String(brand.id);
    if (Object.prototype.hasOwnProperty.call(cannedAnswers, key) || cannedAsked[key]) { return; }
    cannedAsked[key] = true;
    refresh();
  }

  function refresh() {
    var mine = ++generation;
    var askedAt = Date.now();
    fetch(labels.inboxUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("inbox answered " + response.status); }
        var date = Date.parse(response.headers.get("Date") || "");
        if (!isNaN(date)) { learnServerTime(date + 500 - (Date.now() - askedAt) / 2); }
        return response.json();
      })
      .then(function (inbox) {
        if (mine === generation) { merge(inbox, askedAt); }  // an older answer arriving late is dropped
      })
      .catch(noop);  // what is shown stays; the next connection asks again
  }

  // Socket events.

  function onConnect() {
    Object.keys(chats).forEach(function (id) {
      var chat = chats[id];
      chat.syncing = false;  // an answer lost with the old connection never comes
      sync(chat);
      chat.outbox.slice().forEach(function (item) { transmit(chat, item); });
    });
    refresh();
  }

  function onDisconnect() {
    Object.keys(offers).forEach(function (id) { setOfferBusy(offers[id], false); });
  }

  function onOffer(offer) {
    if (!offer || offer.offer_id == null) { return; }
    var expires = parseTime(offer.expires_at);
    if (!isNaN(expires) && typeof offer.timeout_seconds === "number") {
      learnServerTime(expires - offer.timeout_seconds * 1000);  // an offer is announced as it is made
    }
    var isNew = !offers[String(offer.offer_id)];
    addOffer(offer, true);
    if (isNew && offers[String(offer.offer_id)]) {
      announce(format(labels.labelNewOffer, { brand: offer.brand ? offer.brand.name : "" }));
      if (offer.brand) { wantCanned(offer.brand); }
    }
  }

  function onOfferGone(event) {
    var id = String(event && event.offer_id);
    var entry = offers[id];
    if (!entry) { return; }
    removeOffer(id);
    var brand = entry.offer.brand ? entry.offer.brand.name : "";
    if (event.reason === "expired") { announce(format(labels.labelOfferExpired, { brand: brand })); }
    if (event.reason === "rescinded") { announce(format(labels.labelOfferRescinded, { brand: brand })); }
  }

  function onChat(summary) {
    if (!summary || summary.conversation_id == null || !summary.brand) { return; }
    if (!chats[String(summary.conversation_id)] && summary.status !== "active") { return; }
    upsertChat(summary);
  }

  function onMessage(message) {
    var chat = message && chats[String(message.conversation_id)];
    if (!chat) { return; }
    receive(chat, [message]);
    if (message.seq > chat.contiguous) { sync(chat); }  // one went missing in between: fetch the gap
  }

  function onTyping(event) {
    var chat = event && event.sender === "visitor" && chats[String(event.conversation_id)];
    if (!chat) { return; }
    chat.typingUntil = Date.now() + TYPING_SHOWN_MS;
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
  }

  function onPresence(event) {
    if (!event || !event.status) { return; }
    root.dataset.presence = event.status;
    ui.presenceNotice.hidden = event.status === "available";
  }

  // Start.

  var data;
  try {
    data = JSON.parse(initial.textContent);
  } catch (error) {
    data = { offers: [], chats: [], canned_answers: {} };
  }
  cannedAnswers = data.canned_answers || {};
  (data.offers || []).forEach(function (offer) { addOffer(offer, false); });
  (data.chats || []).forEach(function (summary) { upsertChat(summary); });
  renderChatList();
  renderPane();
  setInterval(tick, TICK_MS);

  ui.form.addEventListener("submit", submit);
  ui.input.addEventListener("input", typed);
  ui.input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) { return; }
    if (enterAddsLine && !event.ctrlKey && !event.metaKey) { return; }
    event.preventDefault();
    if (ui.form.requestSubmit) { ui.form.requestSubmit(); } else { submit(event); }
  });
  ui.canned.addEventListener("change", insertCanned);
  ui.close.addEventListener("click", function () { confirming(true); });
  ui.cancelClose.addEventListener("click", function () { confirming(false); });
  ui.confirmClose.addEventListener("click", closeChat);
  ui.dismiss.addEventListener("click", function () {
    if (!selected) { return; }
    removeChat(selected);
    root.querySelector("#chats-title").focus();
  });
  pane.querySelector("[data-back]").addEventListener("click", function () { select(null, true); });
  document.addEventListener("visibilitychange", function () { if (selected) { markRead(selected); } });

  if (!socket) {
    ui.status.textContent = labels.labelNoSocket;  // stays: it holds until the page is reloaded
    return;
  }
  socket.on("connect", onConnect);
  socket.on("disconnect", onDisconnect);
  socket.on("offer", onOffer);
  socket.on("offer_gone", onOfferGone);
  socket.on("chat", onChat);
  socket.on("message", onMessage);
  socket.on("typing", onTyping);
  socket.on("presence", onPresence);
  if (socket.connected) { onConnect(); }
})();
