// The expert's chats on their phone: a list that tells chats apart, and one conversation at a time that fills the
// screen with its composer in view. Offers are answered in the banner every expert page shows (offer_banner.js); an
// offer accepted there opens here (the "marketplace:chat-accepted" event, or /expert/chats?chat=<id> from another page).
// Everything travels on the page's socket (routing/README.md). Events missed while disconnected are not replayed, so
// each (re)connection catches up: every chat's messages after the last one held (chat_log.js keeps each seq once, in
// order, and the expert's own messages "sending" until the server numbers them), and the inbox for chats that started
// or ended meanwhile.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  var initial = document.getElementById("inbox-data");
  var ChatLog = window.MarketplaceChatLog;
  var CannedAnswers = window.MarketplaceCannedAnswers;
  var ChatScreen = window.MarketplaceChatScreen;
  var ChannelWindow = window.MarketplaceChannelWindow;
  if (!root || !initial || !ChatLog || !CannedAnswers || !ChatScreen || !ChannelWindow) { return; }
  var TYPING_EVERY_MS = 3000;  // the expert's typing is signalled at most this often
  var TYPING_SHOWN_MS = 4000;  // the visitor's typing signal shows this long
  var SYNC_BATCH = 500;        // the server's largest answer (chat.MAX_BATCH): a full one means ask again
  var BODY_LENGTH = 2000;
  var TIMES_EVERY_MS = 10000;  // "2 min" in the list and "left 1 min ago" are redrawn this often
  var STATUS_SHOWN_MS = 10000; // a notice (a chat ended) goes once it is stale
  var OPEN_WAIT_MS = 15000;    // how long a chat asked for in the address (?chat=) may take to arrive
  var DISMISSED_KEY = "marketplace.dismissedChats";

  var labels = root.dataset;
  // The conversation's status groups (core/lifecycles.py), from the page: the chats the expert holds (the visitor
  // there, or away: asynchronous, listed apart, their visitor reached another way), the rest are over.
  var HELD = statusSet(labels.statusesAssigned);
  var AWAY = statusSet(labels.statusesAway);
  var socket = window.marketplaceSocket || null;
  var lang = document.documentElement.lang || undefined;
  var clock = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
  var enterAddsLine = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;  // phone keyboards
  var pane = root.querySelector("[data-conversation]");
  var ui = {
    status: root.querySelector("[data-inbox-status]"),
    spoken: root.querySelector("[data-inbox-spoken]"),
    clearClosed: root.querySelector("[data-testid=dismiss-closed]"),
    listTitle: root.querySelector("#chats-title"),
    chatList: root.querySelector("[data-chat-list]"),
    chatsEmpty: root.querySelector("[data-chats-empty]"),
    placeholder: root.querySelector("[data-conversation-placeholder]"),
    back: pane.querySelector("[data-back]"),
    bar: pane.querySelector(".conversation__bar"),
    backUnread: pane.querySelector("[data-back-unread]"),
    backUnreadText: pane.querySelector("[data-back-unread-text]"),
    tabsNav: pane.querySelector("[data-chat-tabs-nav]"),
    tabs: pane.querySelector("[data-chat-tabs]"),
    title: pane.querySelector("#conversation-title"),
    facts: pane.querySelector("[data-testid=chat-context]"),
    left: pane.querySelector("[data-visitor-left]"),
    closeLeft: pane.querySelector("[data-testid=close-left-chat]"),
    log: pane.querySelector("[data-testid=chat-messages]"),
    typing: pane.querySelector("[data-testid=typing-indicator]"),
    ended: pane.querySelector("[data-ended]"),
    comment: pane.querySelector("[data-testid=visitor-comment]"),
    close: pane.querySelector("[data-testid=close-chat]"),
    confirmClose: pane.querySelector("[data-testid=confirm-close]"),
    cancelClose: pane.querySelector("[data-cancel-close]"),
    dismiss: pane.querySelector("[data-testid=dismiss-chat]"),
    form: pane.querySelector("[data-composer]"),
    input: pane.querySelector("[data-testid=chat-input]"),
    inputError: pane.querySelector("[data-input-error]"),
    send: pane.querySelector("[data-testid=chat-send]"),
    canned: pane.querySelector("[data-testid=canned-suggestions]"),
    attachInput: pane.querySelector("[data-testid=chat-attach-input]"),
    attachHint: pane.querySelector("[data-testid=chat-attach-hint]"),
    attachStatus: pane.querySelector("[data-testid=chat-attach-status]"),
    attachError: pane.querySelector("[data-testid=chat-attach-error]"),
    window: pane.querySelector("[data-testid=chat-window]"),
    picker: pane.querySelector("[data-testid=template-picker]"),
    freeText: pane.querySelectorAll("[data-free-text]")
  };
  // The page as a screen on a phone, the log kept at its end, the draft grown to fit (chat_screen.js).
  var screen = ChatScreen.create({ log: ui.log, input: ui.input, open: function () { return !!selected; } });
  var nearBottom = screen.nearBottom;
  var scrollToEnd = screen.scrollToEnd;
  var fitInput = screen.fitInput;

  var chats = {};          // conversation_id -> chat state (newChat)
  var order = [];          // the chats in the order they arrived: the tabs keep it, so they never move under a thumb
  var cannedAnswers = {};  // brand id (string) -> [{title, body}]
  var cannedAsked = {};    // brand ids whose answers were fetched for once already
  var selected = null;
  var clockOffsetMs = 0;   // server time minus this device's time, so a wrong phone clock still says "2 min"
  var generation = 0;
  var wanted = null;       // {id, until}: a chat to open as soon as it is known (?chat= or an accepted offer)

  // Small helpers.

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  var parseTime = ChatLog.parseTime;

  function serverNow() { return Date.now() + clockOffsetMs; }

  function unitFormatter(unit) {
    try {
      return new Intl.NumberFormat(lang, { style: "unit", unit: unit, unitDisplay: "short" });
    } catch (error) {  // a browser without unit formatting
      var short = { second: "s", minute: "min", hour: "h" }[unit];
      return { format: function (count) { return count + " " + short; } };
    }
  }
  var units = { second: unitFormatter("second"), minute: unitFormatter("minute"), hour: unitFormatter("hour") };

  // "40 sec", "2 min", "1 hr": how long, to the unit that matters.
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) { return units.second.format(seconds); }
    if (seconds < 3600) { return units.minute.format(Math.floor(seconds / 60)); }
    return units.hour.format(Math.floor(seconds / 3600));
  }

  function secondsSince(text) {
    var when = parseTime(text);
    return isNaN(when) ? null : Math.max(0, (serverNow() - when) / 1000);
  }

  var languageNames = null;
  try { languageNames = new Intl.DisplayNames([lang || "en"], { type: "language" }); } catch (error) { /* none */ }

  function languageName(locale) {
    if (!locale) { return ""; }
    var code = String(locale).split(/[-_]/)[0].toLowerCase();
    try { return (languageNames && languageNames.of(code)) || code; } catch (error) { return code; }
  }

  function connected() { return !!(socket && socket.connected); }

  function noop() {}

  // A notice shown (and read out) for a while: a chat ended, an error. `quietly`: read out only, for what the
  // screen already shows (the chat just opened, the canned answers listed).
  var timers = {};
  function announce(text, quietly) {
    var region = quietly ? ui.spoken : ui.status;
    if (!region || !text) { return; }
    region.textContent = "";
    clearTimeout(timers[quietly]);
    setTimeout(function () { region.textContent = text; }, 50);  // the same text twice is still read out
    timers[quietly] = setTimeout(function () { region.textContent = ""; }, STATUS_SHOWN_MS);
  }

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function field(node, name) { return node.querySelector("[data-field=" + name + "]"); }

  function senderLabel(sender) {
    return labels["labelSender" + sender.charAt(0).toUpperCase() + sender.slice(1)] || sender;
  }

  function visitorName(chat) {
    return format(labels.labelVisitor, { label: chat.summary.visitor_label || chat.id });
  }

  function firstLine(text) {
    return String(text || "").split(/\r?\n/).filter(function (line) { return line.trim(); })[0] || "";
  }

  // Dismissed closed chats stay dismissed when the page is loaded again (the inbox lists recently closed ones).
  function readDismissed() {
    try { return JSON.parse(window.localStorage.getItem(DISMISSED_KEY) || "[]"); } catch (error) { return []; }
  }

  function writeDismissed(ids) {
    try { window.localStorage.setItem(DISMISSED_KEY, JSON.stringify(ids.slice(-50))); } catch (error) { /* private */ }
  }

  function isDismissed(id) { return readDismissed().indexOf(String(id)) >= 0; }

  // Chats.

  function newChat(summary) {
    var item = fromTemplate("chat-item-template");
    var tab = fromTemplate("chat-tab-template");
    var chat = {
      id: String(summary.conversation_id), summary: summary, entry: item, tab: tab,
      button: item.querySelector("[data-testid=chat-item]"),
      tabButton: tab.querySelector("[data-testid=chat-tab]"),
      view: ChatLog.createView({
        own: "expert", document: document, container: null,
        senderLabel: senderLabel, formatTime: function (date) { return clock.format(date); },
        attachment: renderAttachment, delivery: function (message) { return deliveryText(message.delivery); }
      }),
      readSeq: summary.read_seq || 0,
      unread: 0,
      serverUnread: summary.unread || 0,  // shown until the chat's messages are loaded
      lastMessage: summary.last_message || null,
      lastMessageSeq: summary.last_message ? summary.last_seq || 0 : 0,
      lastVisitorAt: summary.last_visitor_message_at || null,
      loaded: false, syncing: false, syncAgain: false,
      typingUntil: 0, typingSentAt: 0, confirming: false, closing: false, draft: "", createdAt: Date.now()
    };
    chat.button.dataset.conversationId = chat.id;
    chat.tabButton.dataset.conversationId = chat.id;
    chat.button.addEventListener("click", function () { select(chat, true); });
    chat.tabButton.addEventListener("click", function () { select(chat, true); });
    return chat;
  }

  function statusSet(text) {
    var set = {};
    (text || "").split(" ").forEach(function (status) { if (status) { set[status] = true; } });
    return set;
  }

  function isClosed(chat) { return !HELD[chat.summary.status]; }
  function isAway(chat) { return !!AWAY[chat.summary.status]; }

  // The visitor wrote last: they wait for the expert.
  function waitingForYou(chat) {
    return !isClosed(chat) && !!chat.lastMessage && chat.lastMessage.sender === "visitor";
  }

  // `pushed`: the server's own word on a change, in order (the `chat` event): a closed chat the visitor's message
  // continued (within the brand's reopen window) comes back open; an answer asked for earlier never reopens one.
  function upsertChat(summary, pushed) {
    var id = String(summary.conversation_id);
    var chat = chats[id];
    if (!chat) {
      chat = chats[id] = newChat(summary);
      order.push(chat);
      ui.tabs.appendChild(chat.tab);
      sync(chat);
      wantCanned(summary.brand);
    } else {
      var wasOpen = !isClosed(chat);
      if (!wasOpen && HELD[summary.status] && !pushed) { return chat; }  // a late, older answer: it stays ended
      var rated = chat.summary.visitor_rating == null && summary.visitor_rating != null;
      var left = !chat.summary.visitor_left_at && !!summary.visitor_left_at;
      var back = !!chat.summary.visitor_left_at && !summary.visitor_left_at;
      chat.summary = summary;
      chat.readSeq = Math.max(chat.readSeq, summary.read_seq || 0);
      if (summary.last_message && (summary.last_seq || 0) >= chat.lastMessageSeq) {
        chat.lastMessage = summary.last_message;
        chat.lastMessageSeq = summary.last_seq || 0;
      }
      if (summary.last_visitor_message_at && !(parseTime(chat.lastVisitorAt) >= parseTime(summary.last_visitor_message_at))) {
        chat.lastVisitorAt = summary.last_visitor_message_at;
      }
      if (wasOpen && isClosed(chat) && !chat.closing) {
        announce(format(labels.labelChatEnded, { visitor: visitorName(chat), brand: summary.brand.name }));
      } else if (rated) {
        announce(format(labels.labelRated, { visitor: visitorName(chat), rating: summary.visitor_rating }), chat === selected);
      } else if (left && !isClosed(chat)) {
        announce(format(labels.labelLeftAnnounce, { visitor: visitorName(chat) }));
      } else if (back && !isClosed(chat)) {
        announce(format(labels.labelBack, { visitor: visitorName(chat) }));
      }
    }
    renderChatItem(chat);
    renderList();
    if (chat === selected) { renderPane(); }
    if (wanted && wanted.id === id) { openWanted(); }
    return chat;
  }

  function unreadCount(chat) {
    return chat.loaded ? chat.unread : Math.max(chat.unread, chat.serverUnread);
  }

  function setUnread(badge, text, count) {
    badge.textContent = String(count);
    badge.hidden = count === 0;
    text.textContent = count ? format(labels.labelUnread, { count: count }) : "";
  }

  function renderChatItem(chat) {
    var summary = chat.summary;
    var closed = isClosed(chat);
    var button = chat.button;
    var name = visitorName(chat);
    field(button, "visitor").textContent = name;
    field(button, "brand").textContent = summary.brand.name;
    field(button, "topic").textContent = summary.topic || labels.labelNoTopic;
    var last = chat.lastMessage;
    field(button, "last-sender").textContent = last ? format(labels.labelSaid, { sender: senderLabel(last.sender) }) : "";
    field(button, "last").textContent = last ? firstLine(last.body) : "";
    field(button, "closed").hidden = !closed;
    var left = field(button, "left");
    left.hidden = closed || (!summary.visitor_left_at && !isAway(chat));
    left.textContent = isAway(chat) ? labels.labelAwayTag : labels.labelLeftTag;
    var due = isAway(chat) ? parseTime(summary.reply_due_at) : NaN;
    if (!isNaN(due)) { left.textContent += " · " + format(labels.labelReplyBy, { time: clock.format(new Date(due)) }); }
    var waiting = field(button, "waiting");
    waiting.hidden = !waitingForYou(chat) || !left.hidden;
    waiting.textContent = labels.labelWaiting;
    var rating = field(button, "rating");
    rating.hidden = summary.visitor_rating == null;
    rating.textContent = summary.visitor_rating == null ? "" : format(labels.labelRating, { rating: summary.visitor_rating });
    button.classList.toggle("chat-item--closed", closed);
    button.classList.toggle("chat-item--waiting", waitingForYou(chat));
    renderSince(chat);
    var count = unreadCount(chat);
    setUnread(button.querySelector("[data-testid=unread]"), field(button, "unread-text"), count);
    // The tab in the conversation's header: visitor and brand, and what is unread there.
    field(chat.tabButton, "visitor").textContent = summary.visitor_label || chat.id;
    field(chat.tabButton, "brand").textContent = summary.brand.name;
    chat.tabButton.setAttribute("aria-label", name + ", " + summary.brand.name);
    setUnread(field(chat.tabButton, "unread"), field(chat.tabButton, "unread-text"), count);
    chat.tabButton.classList.toggle("chat-tab--closed", closed);
    chat.tabButton.classList.toggle("chat-tab--waiting", waitingForYou(chat));
    [button, chat.tabButton].forEach(function (node) {
      if (chat === selected) { node.setAttribute("aria-current", "true"); } else { node.removeAttribute("aria-current"); }
    });
  }

  function renderSince(chat) {
    var seconds = isClosed(chat) ? null : secondsSince(chat.lastVisitorAt);
    var shown = seconds === null ? "" : duration(seconds);
    field(chat.button, "since").textContent = shown;
    field(chat.button, "since-text").textContent = shown ? format(labels.labelSince, { time: shown }) : "";
  }

  // Waiting for an answer first (the longest wait on top), then the other open chats by latest activity, then those
  // whose visitor is away (asynchronous: their own list), then the closed ones, latest first: an expert with three
  // chats sees at the top the visitor who waits the longest.
  function rank(chat) {
    if (isClosed(chat)) { return [3, -(parseTime(chat.summary.closed_at) || 0)]; }
    if (isAway(chat)) { return [2, -(parseTime(chat.lastVisitorAt) || 0)]; }
    var visitorAt = parseTime(chat.lastVisitorAt) || 0;
    if (waitingForYou(chat) || unreadCount(chat) > 0) { return [0, visitorAt]; }
    var lastAt = chat.lastMessage ? parseTime(chat.lastMessage.created_at) || 0 : 0;
    return [1, -Math.max(lastAt, parseTime(chat.summary.started_at) || 0)];
  }

  function renderList() {
    var sorted = order.slice().sort(function (a, b) {
      var ra = rank(a), rb = rank(b);
      return ra[0] - rb[0] || ra[1] - rb[1] || order.indexOf(a) - order.indexOf(b);
    });
    var focused = document.activeElement;
    sorted.forEach(function (chat, index) {
      if (ui.chatList.children[index] !== chat.entry) { ui.chatList.insertBefore(chat.entry, ui.chatList.children[index] || null); }
    });
    if (focused && focused !== document.activeElement && document.contains(focused)) { focused.focus({ preventScroll: true }); }
    ui.chatsEmpty.hidden = order.length > 0;
    // The tabs are the open chats (and the one shown, closed or not), in the order they came.
    var tabbed = order.filter(function (chat) { return !isClosed(chat) || chat === selected; });
    order.forEach(function (chat) { chat.tab.hidden = tabbed.indexOf(chat) < 0; });
    ui.tabsNav.hidden = tabbed.length < 2;
    ui.bar.classList.toggle("conversation__bar--tabs", !ui.tabsNav.hidden);
    // The brand on each tab only when the tabs are of more than one brand: otherwise it only takes room.
    ui.tabsNav.classList.toggle("chat-tabs--one-brand", tabbed.every(function (chat) {
      return chat.summary.brand.id === tabbed[0].summary.brand.id;
    }));
    ui.clearClosed.hidden = order.filter(isClosed).length < 2;
    var others = 0;  // what waits in the other open chats
    order.forEach(function (chat) {
      if (!isClosed(chat) && chat !== selected) { others += unreadCount(chat); }
    });
    setUnread(ui.backUnread, ui.backUnreadText, others);
  }

  // Messages.

  function watching(chat) {
    return chat === selected && document.visibilityState !== "hidden";
  }

  function noteMessage(chat, message) {
    if (message.seq >= chat.lastMessageSeq) {
      // A file sent without a caption shows as its name in the list.
      var preview = message.body || (message.attachment ? message.attachment.name : "");
      chat.lastMessage = { sender: message.sender, body: preview, created_at: message.created_at };
      chat.lastMessageSeq = message.seq;
    }
    // The FAQ assist's proposal starts from the visitor's last question and the expert's last answer.
    if (message.body && message.seq >= (chat.lastBodySeq || 0)) {
      if (message.sender === "visitor") {
        chat.lastVisitorBody = message.body;
        chat.lastVisitorSeq = message.seq;
      }
      if (message.sender === "expert") { chat.lastExpertBody = message.body; }
      chat.lastBodySeq = message.seq;
    }
    if (message.sender === "visitor") {
      if (!(parseTime(chat.lastVisitorAt) >= parseTime(message.created_at))) { chat.lastVisitorAt = message.created_at; }
      chat.typingUntil = 0;
      if (message.seq > chat.readSeq && !watching(chat)) { chat.unread++; }
    }
  }

  function receive(chat, messages) {
    var added = false;
    messages.forEach(function (message) {
      var follow = chat === selected && nearBottom();
      var entry = chat.view.receive(message);
      if (!entry) { return; }
      added = true;
      noteMessage(chat, message);
      if (chat === selected && (follow || entry.item)) { scrollToEnd(); }
    });
    if (added) {
      renderChatItem(chat);
      renderList();
      if (chat === selected) {
        renderTyping();
        if (assist && !isClosed(chat)) { assist.show(chat); }
      }
    }
    markRead(chat);
  }

  function sync(chat) {
    if (!socket) { syncOverHttp(chat); return; }
    if (!connected()) { return; }  // the next connection syncs every chat
    if (chat.syncing) { chat.syncAgain = true; return; }
    chat.syncing = true;
    chat.syncAgain = false;
    socket.emit("chat_sync", { conversation_id: Number(chat.id), after_seq: chat.view.log.contiguous() }, function (answer) {
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
    var url = labels.apiBase + "/conversations/" + encodeURIComponent(chat.id) + "/messages?after=" +
      chat.view.log.contiguous();
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
    var hadUnread = unreadCount(chat) > 0;
    chat.unread = 0;
    chat.serverUnread = 0;
    if (hadUnread) { renderChatItem(chat); renderList(); }
    var last = chat.view.log.last();
    if (last > chat.readSeq && connected()) {
      chat.readSeq = last;
      socket.emit("chat_read", { conversation_id: Number(chat.id), seq: last }, noop);
    }
  }

  // Sending: shown at once, kept until the server answers, sent again after each reconnection.

  function send(chat, body) {
    var item = chat.view.send(body, labels.labelSending);
    chat.lastMessage = { sender: "expert", body: body, created_at: new Date(serverNow()).toISOString() };
    if (chat === selected) { scrollToEnd(); }
    renderChatItem(chat);
    renderList();
    transmit(chat, item);
  }

  function transmit(chat, item) {
    if (item.failed || item.inFlight || !connected()) { return; }  // unsent ones go at the next connection
    item.inFlight = true;
    socket.emit("chat_send", { conversation_id: Number(chat.id), client_id: item.clientId, body: item.body },
      function (answer) {
        item.inFlight = false;
        if (!chat.view.log.pending(item.clientId)) { return; }  // the message event showed it first
        if (answer && answer.ok && answer.message) {
          receive(chat, [answer.message]);
        } else {  // refused (the chat ended, say): shown as not sent, never sent again
          chat.view.fail(item, format(labels.labelFailed, { error: (answer && answer.error) || labels.labelError }));
        }
      });
  }

  // The conversation pane.

  function showPage(url) {
    var link = field(ui.facts, "page");
    var valid = !!url && /^https?:\/\//i.test(url);
    link.closest("[data-fact]").hidden = !valid;
    if (!valid) { link.removeAttribute("href"); return; }
    var shown = url.replace(/^https?:\/\//i, "").replace(/\/$/, "");
    link.href = url;
    link.title = url;
    link.textContent = shown.length > 60 ? shown.slice(0, 59) + "…" : shown;
  }

  function fact(name, text) {
    field(ui.facts, name).textContent = text || "";
    ui.facts.querySelector("[data-fact=" + name + "]").hidden = !text;
  }

  // A WhatsApp or Messenger chat: the app's name, and until when the expert may write freely (Meta's window).
  function channelFact(summary) {
    var name = { whatsapp: labels.labelWhatsapp, messenger: labels.labelMessenger }[summary.channel];
    if (!name) { return ""; }
    var closes = parseTime(summary.window_closes_at);
    if (isNaN(closes)) { return name; }
    return closes > Date.now() ? format(labels.labelWindowUntil, { channel: name, time: clock.format(new Date(closes)) })
      : format(labels.labelWindowClosed, { channel: name });
  }

  // What became of an expert's message on the app, in small text under it.
  function deliveryText(delivery) {
    if (!delivery) { return ""; }
    if (delivery.state === "failed") { return format(labels.labelDeliveryFailed, { error: delivery.error || "" }); }
    return { sent: labels.labelDeliverySent, delivered: labels.labelDeliveryDelivered,
             read: labels.labelDeliveryRead }[delivery.state] || "";
  }

  function onDelivery(event) {
    var chat = event && chats[String(event.conversation_id)];
    if (chat) { chat.view.delivery(event.seq, deliveryText(event.delivery)); }
  }

  function renderLeft() {
    var chat = selected;
    var leftAt = chat && !isClosed(chat) ? chat.summary.visitor_left_at : null;
    ui.left.hidden = !leftAt;
    if (!leftAt) { return; }
    var seconds = secondsSince(leftAt);
    field(ui.left, "left").textContent = seconds === null || seconds < 60
      ? labels.labelLeftNow : format(labels.labelLeft, { time: duration(seconds) });
  }

  function renderEnded(chat) {
    var summary = chat.summary;
    var reason = { expert: labels.labelEndedExpert, visitor: labels.labelEndedVisitor,
                   inactivity: labels.labelEndedInactivity }[summary.end_reason];
    field(ui.ended, "ended").textContent = reason || labels.labelEnded;
    var rating = summary.visitor_rating;
    field(ui.ended, "stars").textContent = rating == null ? "" : "★★★★★".slice(0, rating) + "☆☆☆☆☆".slice(0, 5 - rating);
    field(ui.ended, "rating").textContent = rating == null ? labels.labelNotRated : format(labels.labelRating, { rating: rating });
    ui.comment.hidden = !summary.visitor_comment;
    field(ui.comment, "comment").textContent = summary.visitor_comment || "";
  }

  function renderPane() {
    var chat = selected;
    root.classList.toggle("inbox--chat-open", !!chat);
    pane.hidden = !chat;
    ui.placeholder.hidden = !!chat;
    screen.layout();
    // The visitor's earlier conversations with the brand show beside the chat while it is held (contact_history.js).
    document.dispatchEvent(new CustomEvent("marketplace:chat-shown", {
      detail: { conversationId: chat ? chat.id : null, held: !!chat && !isClosed(chat) }
    }));
    if (!chat) { return; }
    var summary = chat.summary;
    var closed = isClosed(chat);
    field(ui.title, "visitor").textContent = visitorName(chat);
    field(ui.title, "brand").textContent = summary.brand.name;
    fact("topic", summary.topic || labels.labelNoTopic);
    fact("language", languageName(summary.visitor_locale));
    fact("waited", summary.waited_seconds == null ? "" : format(labels.labelWaited, { time: duration(summary.waited_seconds) }));
    fact("channel", channelFact(summary));
    showPage(summary.page_url);
    renderLeft();
    ui.ended.hidden = !closed;
    if (closed) { renderEnded(chat); }
    ui.close.hidden = closed || chat.confirming;
    ui.confirmClose.hidden = closed || !chat.confirming;
    ui.cancelClose.hidden = closed || !chat.confirming;
    ui.form.hidden = closed;
    ui.input.disabled = closed;
    ui.send.disabled = closed || !socket;  // without the socket, chats can be read but not answered
    if (closed) { canned.close(); }
    if (closed && assist) { assist.show(null); }
    renderAttach(chat);
    renderWindow();
    renderTyping();
  }

  // WhatsApp's 24-hour window (channel_window.js): the time left under the composer; once it has closed, the
  // number's approved templates in place of the free-text box. Redrawn with the other times.
  var picker = ChannelWindow.picker({ document: document, root: ui.picker, labels: labels, send: sendTemplate });

  // Messenger's: 7 days from the person's last message (replies after 24 hours go out tagged HUMAN_AGENT), then
  // nothing can go out until they write again, so the composer closes with a line saying so (no templates there).
  var messengerLabels = Object.assign({}, labels, { labelWindowLeft: labels.labelMessengerLeft,
                                                    labelWindowShut: labels.labelMessengerShut });

  function renderWindow() {
    var chat = selected;
    var channel = chat && !isClosed(chat) ? chat.summary.channel : null;
    var windowed = channel === "whatsapp" || channel === "messenger";
    var closesAt = windowed ? parseTime(chat.summary.window_closes_at) : NaN;
    ui.window.textContent = windowed
      ? ChannelWindow.windowText(closesAt, serverNow(), channel === "messenger" ? messengerLabels : labels) : "";
    ui.window.hidden = !ui.window.textContent;
    var shut = windowed && !(closesAt > serverNow());
    Array.prototype.forEach.call(ui.freeText, function (part) { part.hidden = shut; });
    if (!shut || channel === "messenger") { picker.hide(); return; }
    if (chat.templates) { picker.show(chat.id, chat.templates); return; }
    picker.show(chat.id, null);  // empty until the number's templates arrive
    if (chat.templatesAsked) { return; }
    chat.templatesAsked = true;
    api("GET", chat, "/templates").then(function (answer) {
      chat.templates = (answer.ok && answer.body.templates) || [];
      if (chat === selected) { renderWindow(); }
    }, function () { chat.templatesAsked = false; });
  }

  function api(method, chat, path, body) {
    var meta = document.querySelector("meta[name=csrf-token]");
    return fetch(labels.apiBase + "/conversations/" + encodeURIComponent(chat.id) + path, {
      method: method, credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : "" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return { ok: response.ok, body: answer };
      });
    });
  }

  function sendTemplate(templateId, parameters, done) {
    var chat = selected;
    if (!chat) { return; }
    api("POST", chat, "/template-messages",
        { template_id: templateId, parameters: parameters, client_id: ChatLog.newClientId("e-") })
      .then(function (answer) {
        if (!answer.ok) {
          var fields = answer.body.errors || {};
          done((fields.parameters || fields.template_id || [answer.body.detail || labels.labelError]).join(" "));
          return;
        }
        done(null);
        receive(chat, [answer.body]);
        if (chat === selected) { scrollToEnd(); }
      }, function () { done(labels.labelDisconnected); });
  }

  function renderTyping() {
    var wasAtEnd = nearBottom();
    ui.typing.hidden = !(selected && !isClosed(selected) && selected.typingUntil > Date.now());
    if (wasAtEnd) { scrollToEnd(); }
  }

  var logQuietTimer = null;
  function showLog(chat) {
    // Switching chats is not news: the log is silent while it fills with the other chat's messages.
    ui.log.setAttribute("aria-live", "off");
    chat.view.attach(ui.log);
    scrollToEnd();
    clearTimeout(logQuietTimer);
    logQuietTimer = setTimeout(function () { ui.log.setAttribute("aria-live", "polite"); }, 100);
  }

  function select(chat, moveFocus) {
    var previous = selected;
    if (previous && previous !== chat) {
      previous.draft = ui.input.value;
      previous.confirming = false;
      previous.view.detach();
    }
    selected = chat;
    canned.close();
    if (previous && previous !== chat) { renderChatItem(previous); }
    if (chat) {
      chat.confirming = false;
      if (previous !== chat) {
        ui.input.value = chat.draft || "";
        ui.inputError.textContent = "";
        ui.input.removeAttribute("aria-invalid");
        showLog(chat);
      }
      renderChatItem(chat);
    }
    renderPane();
    renderList();
    fitInput();
    if (assist) { assist.show(chat && !isClosed(chat) ? chat : null); }
    if (chat) {
      scrollToEnd();
      if (chat.tabButton.scrollIntoView && !ui.tabsNav.hidden) {
        chat.tabButton.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
      markRead(chat);
      if (moveFocus) { ui.title.focus({ preventScroll: true }); }
    } else if (moveFocus) {
      if (previous && chats[previous.id]) { previous.button.focus(); } else { ui.listTitle.focus(); }
    }
  }

  function removeChat(chat) {
    if (chat === selected) { select(null, false); }
    chat.view.detach();
    chat.entry.remove();
    chat.tab.remove();
    order.splice(order.indexOf(chat), 1);
    delete chats[chat.id];
    renderList();
  }

  function dismiss(closed) {
    writeDismissed(readDismissed().concat(closed.map(function (chat) { return chat.id; })));
    closed.forEach(removeChat);
    ui.listTitle.focus();
  }

  // The chat asked for in the address, or just accepted in the offer banner: opened as soon as it is known.
  function want(id) {
    wanted = { id: String(id), until: Date.now() + OPEN_WAIT_MS };
    openWanted();
  }

  function openWanted() {
    if (!wanted) { return; }
    if (Date.now() > wanted.until) { wanted = null; return; }
    var chat = chats[wanted.id];
    if (!chat) { return; }
    wanted = null;
    select(chat, true);
  }

  // Canned answers: "/" and a few letters in the composer list the open chat's brand's answers (canned_answers.js).
  var canned = CannedAnswers.create({
    document: document, input: ui.input, list: ui.canned, firstLine: firstLine,
    answers: function () {
      return selected && !isClosed(selected) ? cannedAnswers[String(selected.summary.brand.id)] || [] : null;
    },
    announce: function (count) {
      announce(count ? format(labels.labelCannedCount, { count: count }) : labels.labelCannedNone, true);
    },
    inserted: function () { fitInput(); typed(); }
  });

  // The brand's FAQ beside the composer (faq_assist.js): suggestions for the visitor's last message, and proposals.
  var assist = window.MarketplaceFaqAssist ? window.MarketplaceFaqAssist.create({
    document: document, root: pane.querySelector("[data-testid=faq-assist]"), labels: labels,
    api: function (method, path, body) { return api(method, selected, path, body); },
    fill: function (text) {
      ui.input.value = text;
      fitInput();
      typed();
      ui.input.focus();
    }
  }) : null;

  // Files: a thumbnail or a link in the log, fetched through short-lived links; the attach button sends one.

  var Attachments = window.MarketplaceAttachments;
  var uploading = false;

  function sizeText(bytes) { return Attachments.formatSize(bytes, lang); }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) { return answer; }
        var error = new Error(answer.detail || labels.labelError);
        error.fields = answer.errors || {};
        throw error;
      });
    });
  }

  var renderAttachment = Attachments && Attachments.createRenderer({
    document: document,
    links: function (attachmentId) {
      return getJson(labels.apiBase + "/attachments/" + encodeURIComponent(attachmentId) + "/link");
    },
    open: function (url, attachment) { Attachments.openFile(document, url, attachment); },
    label: function (attachment) {
      return attachment.kind === "image" ? format(labels.labelOpenImage, { name: attachment.name })
        : format(labels.labelDownload, { name: attachment.name, size: sizeText(attachment.size) });
    }
  });

  function renderAttach(chat) {
    var limit = chat && chat.summary.attachment_max_bytes;
    ui.attachHint.textContent = limit ? format(labels.labelAttachLimit, { size: sizeText(limit) }) : "";
    ui.attachInput.disabled = !chat || isClosed(chat);
  }

  function attach() {
    var chat = selected;
    var file = ui.attachInput.files && ui.attachInput.files[0];
    ui.attachInput.value = "";  // the same file may be chosen again after a refusal
    if (!file || !chat || isClosed(chat) || uploading) { return; }
    ui.attachError.textContent = "";
    var limit = chat.summary.attachment_max_bytes;
    if (Attachments.tooLarge(file, limit)) {
      ui.attachError.textContent = format(labels.labelFileTooLarge, { size: sizeText(limit) });
      return;
    }
    var caption = ui.input.value.trim().slice(0, BODY_LENGTH);
    var meta = document.querySelector("meta[name=csrf-token]");
    uploading = true;
    ui.attachStatus.textContent = format(labels.labelUploading, { name: file.name });
    fetch(labels.apiBase + "/conversations/" + encodeURIComponent(chat.id) + "/attachments", {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": meta ? meta.content : "" },
      body: Attachments.formData(file, ChatLog.newClientId("e-"), caption)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        uploading = false;
        ui.attachStatus.textContent = "";
        if (!response.ok) {
          var fields = answer.errors || {};
          ui.attachError.textContent = (fields.file || fields.body || [answer.detail || labels.labelError]).join(" ");
          return;
        }
        if (caption && chat === selected && ui.input.value.trim().slice(0, BODY_LENGTH) === caption) {
          ui.input.value = "";
          fitInput();
        }
        receive(chat, [answer]);
        if (chat === selected) { scrollToEnd(); }
      });
    }, function () {
      uploading = false;
      ui.attachStatus.textContent = "";
      ui.attachError.textContent = labels.labelDisconnected;
    });
  }

  // The composer.

  function submit(event) {
    event.preventDefault();
    var chat = selected;
    if (!chat || isClosed(chat)) { return; }
    if (!ui.picker.hidden) { picker.submit(); return; }  // Enter in a template's parameter
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
    canned.close();
    fitInput();
    send(chat, body);
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

  function closeChat(chat) {
    if (!chat || isClosed(chat) || chat.closing) { return; }
    if (!connected()) { announce(labels.labelDisconnected); return; }
    chat.closing = true;
    ui.confirmClose.disabled = true;
    ui.closeLeft.disabled = true;
    socket.emit("chat_close", { conversation_id: Number(chat.id) }, function (answer) {
      ui.confirmClose.disabled = false;
      ui.closeLeft.disabled = false;
      chat.confirming = false;
      if (answer && answer.ok && answer.chat) {
        upsertChat(answer.chat);
        if (chat === selected) { ui.title.focus({ preventScroll: true }); }
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

  // The inbox, fetched after each (re)connection: chats that started or ended meanwhile.

  function merge(inbox, askedAt) {
    Object.keys(inbox.canned_answers || {}).forEach(function (brandId) {
      cannedAnswers[brandId] = inbox.canned_answers[brandId];
    });
    var chatIds = {};
    var stillClosed = [];
    (inbox.chats || []).forEach(function (summary) {
      var id = String(summary.conversation_id);
      chatIds[id] = true;
      if (!HELD[summary.status] && isDismissed(id)) { stillClosed.push(id); return; }
      upsertChat(summary);
    });
    writeDismissed(stillClosed);  // the others are out of the inbox for good: forget them
    Object.keys(chats).forEach(function (id) {
      var chat = chats[id];
      if (!chatIds[id] && !isClosed(chat) && chat.createdAt < askedAt) {
        // It ended while we were away and left the inbox; its closing event was missed.
        upsertChat(Object.assign({}, chat.summary, { status: "closed" }));
      }
    });
  }

  // A brand seen for the first time: its canned answers come with the inbox, asked for once.
  function wantCanned(brand) {
    var key = String(brand.id);
    if (Object.prototype.hasOwnProperty.call(cannedAnswers, key) || cannedAsked[key]) { return; }
    cannedAsked[key] = true;
    refresh();
  }

  function refresh() {
    if (!window.marketplaceApp) { return; }  // not an approved expert: no chats to fetch
    var mine = ++generation;
    window.marketplaceApp.inbox().then(function (answer) {
      clockOffsetMs = window.marketplaceApp.clockOffsetMs();
      if (mine === generation) { merge(answer.inbox, answer.askedAt); }  // an older answer arriving late is dropped
    }, noop);  // what is shown stays; the next connection asks again
  }


  // Socket events.

  function onConnect() {
    Object.keys(chats).forEach(function (id) {
      var chat = chats[id];
      chat.syncing = false;  // an answer lost with the old connection never comes
      sync(chat);
      chat.view.log.unsent().forEach(function (item) {
        item.inFlight = false;
        transmit(chat, item);
      });
    });
    refresh();
  }

  function onChat(summary) {
    if (!summary || summary.conversation_id == null || !summary.brand) { return; }
    if (!chats[String(summary.conversation_id)] && !HELD[summary.status]) { return; }
    upsertChat(summary, true);
  }

  function onMessage(message) {
    var chat = message && chats[String(message.conversation_id)];
    if (!chat) { return; }
    receive(chat, [message]);
    if (chat.view.log.hasGap()) { sync(chat); }  // one went missing in between: fetch the gap
  }

  function onTyping(event) {
    var chat = event && event.sender === "visitor" && chats[String(event.conversation_id)];
    if (!chat) { return; }
    chat.typingUntil = Date.now() + TYPING_SHOWN_MS;
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
  }

  // The offer banner accepted a chat while this page is open: show it, open it, composer ready.
  function onAcceptedInBanner(event) {
    var summary = event && event.detail && event.detail.chat;
    if (!summary || summary.conversation_id == null || !summary.brand) { return; }
    var chat = upsertChat(summary);
    announce(format(labels.labelChatStarted, { visitor: visitorName(chat), brand: summary.brand.name }), true);
    select(chat, true);
  }

  function renderTimes() {
    order.forEach(renderSince);
    renderLeft();
    renderWindow();
  }

  // Start.

  var data;
  try {
    data = JSON.parse(initial.textContent);
  } catch (error) {
    data = { chats: [], canned_answers: {} };
  }
  cannedAnswers = data.canned_answers || {};
  (data.chats || []).forEach(function (summary) {
    if (HELD[summary.status] || !isDismissed(summary.conversation_id)) { upsertChat(summary); }
  });
  renderList();
  renderPane();

  // /expert/chats?chat=<id>: the chat accepted in the banner on another page opens at once.
  var params = new URLSearchParams(window.location.search);
  if (params.has("chat")) {
    var asked = params.get("chat");
    params.delete("chat");
    var rest = params.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (rest ? "?" + rest : "") +
      window.location.hash);
    if (/^\d+$/.test(asked)) { want(asked); }
  }

  setInterval(renderTimes, TIMES_EVERY_MS);
  ui.form.addEventListener("submit", submit);
  ui.attachInput.addEventListener("change", attach);
  ui.input.addEventListener("input", function () {
    fitInput();
    canned.suggest();
    typed();
  });
  ui.input.addEventListener("click", canned.suggest);
  ui.input.addEventListener("keyup", function (event) {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") { canned.suggest(); }
  });
  ui.input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== ui.input) { canned.close(); } }, 150); });
  ui.input.addEventListener("keydown", function (event) {
    if (event.isComposing || canned.key(event)) { return; }
    if (event.key !== "Enter" || event.shiftKey) { return; }
    if (enterAddsLine && !event.ctrlKey && !event.metaKey) { return; }
    event.preventDefault();
    if (ui.form.requestSubmit) { ui.form.requestSubmit(); } else { submit(event); }
  });
  ui.close.addEventListener("click", function () { confirming(true); });
  ui.cancelClose.addEventListener("click", function () { confirming(false); });
  ui.confirmClose.addEventListener("click", function () { closeChat(selected); });
  ui.closeLeft.addEventListener("click", function () { closeChat(selected); });  // the visitor is gone: no second tap
  ui.dismiss.addEventListener("click", function () { if (selected) { dismiss([selected]); } });
  ui.clearClosed.addEventListener("click", function () { dismiss(order.filter(isClosed)); });
  ui.back.addEventListener("click", function () { select(null, true); });
  screen.watch();
  document.addEventListener("visibilitychange", function () { if (selected) { markRead(selected); } });
  document.addEventListener("marketplace:chat-accepted", onAcceptedInBanner);

  if (!socket) {
    ui.status.textContent = labels.labelNoSocket;  // stays: it holds until the page is reloaded
    return;
  }
  socket.on("connect", onConnect);
  socket.on("chat", onChat);
  socket.on("message", onMessage);
  socket.on("message_delivery", onDelivery);
  socket.on("typing", onTyping);
  if (socket.connected) { onConnect(); }
})();
