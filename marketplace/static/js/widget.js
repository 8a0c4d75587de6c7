// The visitor's chat, in the frame the loader (static/widget/loader.js) opens on a brand's page; the protocol is
// routing/README.md. The visitor is known by a random token this browser keeps, and the conversation under way is
// remembered too, so a reload resumes it. The log (js/chat_log.js, loaded first) shows messages by seq, each once;
// the visitor's own wait as "sending" and go again, with the same client id, until the server answers. Events missed
// while disconnected are not replayed, so each (re)connection catches up with `sync` and `status`; without the
// socket, the same calls go over HTTP. While queued, the status is asked for often enough that a change (an expert
// free, or none able to take the chat) shows within QUEUED_STATUS_EVERY_MS.
(function () {
  "use strict";
  var root = document.getElementById("widget");
  if (!root || !window.MarketplaceChatLog) { return; }
  var STATUS_EVERY_MS = 15000;  // in a chat: keeps the visitor seen (well inside the server's grace period)
  var QUEUED_STATUS_EVERY_MS = 5000;  // in the queue: the place, the wait, whether any expert can take it
  var TICK_MS = 5000;           // without the socket (or with it down), messages come by asking this often
  var SEND_TIMEOUT_MS = 10000;  // a send not answered by then goes again, with the same client id
  var RETRY_MS = 5000;          // before connecting again after the server refused the socket
  var PAGE_STORAGE_WAIT_MS = 3000;  // for the loader to hand over what it keeps, where this frame has no storage
  var TYPING_EVERY_MS = 3000;   // the visitor's typing is signalled at most this often
  var TYPING_SHOWN_MS = 4000;   // the expert's typing signal shows this long
  var SYNC_BATCH = 500;         // the server's largest answer (chat.MAX_BATCH): a full one means ask again
  var BODY_LENGTH = 2000;

  var texts = root.dataset;
  // The conversation's status groups (core/lifecycles.py), handed over by the frame: in the queue, held by an expert
  // (the visitor there, or away: asynchronous, which the visitor's next message brings back), and over.
  var QUEUED = statusSet(texts.statusesQueued);
  var ASSIGNED = statusSet(texts.statusesAssigned);
  var ENDED = statusSet(texts.statusesOver);
  var WITH_BOT = statusSet(texts.statusesBot);
  var RESOLVED = "resolved";
  // A closed chat is shown with its history; within the brand's reopen window (`may_continue`) the visitor's next
  // message continues it, after it the composer gives way to a new conversation.
  var CLOSED = "closed";
  var key = texts.key;
  var pageUrl = /^https?:\/\//i.test(texts.pageUrl || "") ? texts.pageUrl : "";
  var parentOrigin = originOf(pageUrl);  // the brand's page: the only window told about unread messages
  var embedded = window.parent !== window;
  var hasSocket = typeof window.io === "function";
  var clock = new Intl.DateTimeFormat(texts.lang || undefined, { hour: "numeric", minute: "2-digit" });
  var enterAddsLine = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;  // phone keyboards
  var TOKEN_NAME = "marketplace.visitor." + key;
  var CONVERSATION_NAME = "marketplace.conversation." + key;

  function statusSet(text) {
    var set = {};
    (text || "").split(" ").forEach(function (status) { if (status) { set[status] = true; } });
    return set;
  }

  function part(selector) { return root.querySelector(selector); }
  function byTestId(id) { return part("[data-testid=" + id + "]"); }

  var views = {};
  Array.prototype.forEach.call(root.querySelectorAll("[data-view]"), function (node) { views[node.dataset.view] = node; });
  var ui = {
    close: byTestId("close-chat"),
    startForm: part("[data-start-form]"),
    start: byTestId("start-chat"),
    topic: byTestId("topic"),
    startNotice: part("[data-start-notice]"),
    closedNote: part("[data-closed-note]"),
    queue: byTestId("queue-status"),
    connection: byTestId("connection-status"),
    leaveInstead: byTestId("leave-message-instead"),
    nobody: part("[data-no-expert]"),
    nobodyLeave: byTestId("no-expert-leave-message"),
    keepWaiting: byTestId("keep-waiting"),
    log: byTestId("messages"),
    typing: byTestId("typing-indicator"),
    composer: part("[data-composer]"),
    input: byTestId("message-input"),
    attachInput: byTestId("attach-input"),
    attachHint: byTestId("attach-hint"),
    attachStatus: byTestId("attach-status"),
    end: byTestId("end-chat"),
    leaveForm: part("[data-leave-form]"),
    leaveIntro: part("[data-leave-intro]"),
    leaveEmail: byTestId("leave-message-email"),
    leaveBody: byTestId("leave-message-body"),
    sendLeft: byTestId("send-left-message"),
    backToChat: byTestId("back-to-chat"),
    skipLeave: byTestId("skip-left-message"),
    leftThanks: byTestId("left-message-thanks"),
    ratingForm: part("[data-rating-form]"),
    stars: part("[data-stars]"),
    submitRating: byTestId("submit-rating"),
    skipRating: byTestId("skip-rating"),
    ratingThanks: byTestId("rating-thanks"),
    ratingBack: byTestId("back-to-closed-chat"),
    over: part("[data-chat-over]"),
    startNew: byTestId("start-new-conversation"),
    emailBox: part("[data-email-box]"),
    emailForm: part("[data-email-form]"),
    email: byTestId("visitor-email"),
    consent: byTestId("visitor-email-consent"),
    giveEmail: byTestId("give-email"),
    emailGiven: part("[data-email-given]"),
    transcript: byTestId("email-transcript"),
    transcriptNote: part("[data-transcript-note]"),
    talkToExpert: byTestId("talk-to-expert"),
    botFeedback: part("[data-bot-feedback]"),
    botHelpful: byTestId("bot-helpful"),
    botNotHelpful: byTestId("bot-not-helpful"),
    whatsappBox: part("[data-whatsapp-box]"),
    whatsappLink: byTestId("continue-on-whatsapp")
  };

  var token = null;
  var conversation = null;  // the latest word on the visitor's conversation (README: "Conversation")
  var queue = null;         // {position, estimate, nobody} from a full answer: `conversation` events leave them out
  var socket = null;
  var socketTrouble = false;
  var syncing = false, syncAgain = false;
  var statusAskedAt = 0;
  var chosenLeave = false;  // the visitor, still queued, chose to leave a message instead
  var ratingPassed = false; // rated or skipped: the closed chat shows (with its composer while it may continue)
  var keptWaiting = false;  // told no expert can take the chat now, the visitor waits: no notice until that changes
  var panelOpen = true;     // the loader opens the panel as it creates this frame
  var unread = 0;
  var typingUntil = 0, typingTimer = null, typingSentAt = 0;
  var current = "loading";
  var attachmentMax = null;  // the brand's largest file, told by the widget's info before any upload
  var uploading = false;
  var lastSeq = 0, lastSender = null;  // the latest message shown: the bot's answer asks "Did this help?"

  // Small helpers.

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function originOf(url) {
    try {
      var origin = url ? new URL(url).origin : null;
      return origin && origin !== "null" ? origin : null;
    } catch (error) {
      return null;
    }
  }

  function randomHex(size) {
    var bytes = new Uint8Array(size);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function isVisible(node) { return !!node && !node.closest("[hidden]"); }

  function connected() { return !!(socket && socket.connected); }

  function tell(message) {
    if (embedded && parentOrigin) { window.parent.postMessage(message, parentOrigin); }
  }

  // A button at work keeps its focus (a disabled one would lose it) and ignores clicks until done.
  function busy(button, on) {
    if (on) { button.setAttribute("aria-disabled", "true"); } else { button.removeAttribute("aria-disabled"); }
  }

  function isBusy(button) { return button.getAttribute("aria-disabled") === "true"; }

  // Storage. Browsers that block third-party storage refuse this frame its localStorage: then the loader keeps the
  // two values on the brand's page (it hands them over as the frame loads), and memory serves meanwhile.
  var memory = {};
  var ownStorage = (function () {
    try { return !!window.localStorage; } catch (error) { return false; }
  }());

  function load(name) {
    if (ownStorage) {
      try { return window.localStorage.getItem(name); } catch (error) { /* refused after all: memory below */ }
    }
    return Object.prototype.hasOwnProperty.call(memory, name) ? memory[name] : null;
  }

  function save(name, value) {
    memory[name] = value;
    if (ownStorage) {
      try { window.localStorage.setItem(name, value); } catch (error) { /* full: kept in memory */ }
    } else {
      tell({ type: "marketplace:store", name: name, value: value });
    }
  }

  function drop(name) {
    delete memory[name];
    if (ownStorage) {
      try { window.localStorage.removeItem(name); } catch (error) { /* nothing kept */ }
    } else {
      tell({ type: "marketplace:store", name: name, value: null });
    }
  }

  function visitorToken() {
    var stored = load(TOKEN_NAME);
    if (stored && /^[A-Za-z0-9_-]{32,128}$/.test(stored)) { return stored; }
    var fresh = randomHex(32);
    save(TOKEN_NAME, fresh);
    return fresh;
  }

  // HTTP: JSON both ways; a refusal becomes an Error carrying the problem's status, detail and field errors.

  function call(method, path, body) {
    var headers = { Accept: "application/json", "X-Visitor-Token": token };
    var options = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body instanceof FormData) {
      options.body = body;  // multipart: the browser writes the Content-Type with its boundary
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(texts.api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) { return answer; }
        throw refusal(response.status, answer || {});
      });
    }, function () {
      throw refusal(0, {});
    });
  }

  function refusal(status, answer) {
    var error = new Error(answer.detail || texts.textError);
    error.status = status;
    error.detail = status >= 500 ? texts.textError : answer.detail || "";
    error.fields = answer.errors || {};
    return error;
  }

  function transient(error) { return error.status === 0 || error.status === 429 || error.status >= 500; }

  function flatten(value) {
    if (typeof value === "string") { return [value]; }
    if (!value || typeof value !== "object") { return []; }
    var list = Array.isArray(value) ? value : Object.keys(value).map(function (name) { return value[name]; });
    return list.reduce(function (all, item) { return all.concat(flatten(item)); }, []);
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-error-for], [data-form-error]"), function (node) {
      node.textContent = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  function fieldError(form, name, message) {
    var slot = form.querySelector("[data-error-for=\"" + name + "\"]");
    if (!slot) { return null; }
    slot.textContent = message;
    var input = form.querySelector("[name=\"" + name + "\"]");
    if (input && input.type !== "radio") { input.setAttribute("aria-invalid", "true"); }
    return input;
  }

  // Field errors under their fields, the rest (and the detail, unless it repeats one) above the buttons.
  function showProblem(form, error) {
    clearErrors(form);
    var shown = [], general = [], first = null;
    if (error.status === 0) {
      general.push(texts.textOffline);
    } else {
      Object.keys(error.fields || {}).forEach(function (name) {
        var message = flatten(error.fields[name]).join(" ");
        if (!message) { return; }
        if (form.querySelector("[data-error-for=\"" + name + "\"]")) {
          var input = fieldError(form, name, message);
          first = first || input;
          shown.push(message);
        } else if (general.indexOf(message) < 0) {
          general.push(message);
        }
      });
      if (error.detail && shown.indexOf(error.detail) < 0 && general.indexOf(error.detail) < 0) {
        general.push(error.detail);
      }
      if (!general.length && !shown.length) { general.push(texts.textError); }
    }
    form.querySelector("[data-form-error]").textContent = general.join(" ");
    if (first) { first.focus(); }
  }

  // Views: one shows at a time. Focus follows only when it was in the view going away (the visitor acted there).

  function show(name) {
    var active = document.activeElement;
    var hadFocus = document.hasFocus() && (!active || active === document.body || views[current].contains(active));
    Object.keys(views).forEach(function (view) { views[view].hidden = view !== name; });
    var changed = current !== name;
    current = name;
    if (changed && hadFocus) { focusView(); }
  }

  function focusView() {
    var target = Array.prototype.filter.call(views[current].querySelectorAll("[data-focus]"), isVisible)[0];
    if (target) { target.focus(); }
  }

  function showStart(notice) {
    ui.startNotice.textContent = notice || "";
    ui.startNotice.hidden = !notice;
    show("start");
  }

  function showLeave() {
    var status = conversation.status;
    var intro = texts.textAbandoned;
    if (QUEUED[status]) { intro = texts.textLeaveQueued; }
    if (status === "missed") { intro = texts.textMissed; }
    if (status === "capped") { intro = conversation.end_reason === "closed_hours" ? texts.textClosedHours : texts.textCapped; }
    ui.leaveIntro.textContent = intro;
    ui.backToChat.hidden = !QUEUED[status];
    ui.skipLeave.hidden = !!QUEUED[status];
    show("leave");
  }

  function render() {
    var status = conversation.status;
    if (WITH_BOT[status]) {
      show("chat");
      renderStatus();
    } else if (QUEUED[status] || ASSIGNED[status]) {
      if (ASSIGNED[status]) { chosenLeave = false; }  // an expert answered: the chat comes first
      if (chosenLeave) { showLeave(); } else { show("chat"); }
      renderStatus();
    } else if (status === CLOSED && conversation.may_rate && !ratingPassed) {
      show("rating");
    } else if (status === CLOSED || status === RESOLVED) {
      show("chat");
      renderStatus();
    } else if (conversation.may_leave_message) {
      showLeave();
    } else {
      finish(texts.textEnded);
    }
  }

  // In the queue: the place and the wait, unless no expert can take the chat now; then say so, and offer to leave a
  // message or keep waiting. Never a made-up wait: without an estimate, only the place.
  function renderStatus() {
    var status = conversation.status;
    var queued = !!QUEUED[status];
    var nobody = queued && !!queue && queue.nobody;
    var text = texts.textWaiting;
    var closed = status === CLOSED || status === RESOLVED;
    var withBot = !!WITH_BOT[status];
    if (status === RESOLVED) {  // it helped; the visitor asked nothing more; or they went before asking
      text = { bot_confirmed: texts.textResolved, bot_unconfirmed: texts.textResolvedQuiet }[conversation.end_reason]
        || texts.textEnded;
    } else if (closed) {
      text = conversation.may_continue ? texts.textClosedContinue : texts.textEnded;
    } else if (withBot) {
      text = texts.textBot;
    } else if (ASSIGNED[status]) {
      text = conversation.expert_name ? format(texts.textConnected, { name: conversation.expert_name })
        : texts.textConnectedAnonymous;
    } else if (nobody) {
      text = keptWaiting ? texts.textStillWaiting : texts.textNoExpert;
    } else if (queue && queue.position != null) {
      text = format(texts.textPosition, { position: queue.position });
      if (typeof queue.estimate === "number" && queue.estimate >= 0) {
        text += " " + format(texts.textEstimate, { minutes: Math.max(1, Math.ceil(queue.estimate / 60)) });
      }
    }
    if (ui.queue.textContent !== text) { ui.queue.textContent = text; }  // the same words are not read out again
    ui.queue.dataset.status = status;
    ui.nobody.hidden = !nobody || keptWaiting;
    ui.leaveInstead.hidden = !queued || !ui.nobody.hidden;  // the notice offers it already
    ui.talkToExpert.hidden = !withBot;
    renderBotFeedback();
    ui.emailBox.hidden = !!conversation.email_given || closed || withBot;
    ui.emailGiven.hidden = !conversation.email_given;
    renderWhatsapp();
    ui.composer.hidden = !writable(conversation);
    ui.over.hidden = !ui.composer.hidden;
    ui.end.hidden = closed;
    renderConnection();
    renderTyping();
  }

  // "Continue on WhatsApp": the brand's number with a message carrying this chat's code, which proves the visitor's
  // number to the brand when they send it (offered only when the brand's WhatsApp number is known).
  function renderWhatsapp() {
    var link = WITH_BOT[conversation.status] ? null : conversation.whatsapp_link;  // the bot's turn is short
    ui.whatsappBox.hidden = !link;
    if (link && ui.whatsappLink.getAttribute("href") !== link) { ui.whatsappLink.setAttribute("href", link); }
  }

  // Under the bot's latest answer: "Did this answer your question? Yes / Talk to an expert".
  function renderBotFeedback() {
    ui.botFeedback.hidden = !(conversation && WITH_BOT[conversation.status] && lastSender === "bot");
  }

  function renderConnection() {
    ui.connection.hidden = !socket || connected() || !socketTrouble;
  }

  function renderTyping() {
    var on = !!conversation && !!ASSIGNED[conversation.status] && typingUntil > Date.now();
    if (on) {
      ui.typing.textContent = conversation.expert_name ? format(texts.textTyping, { name: conversation.expert_name })
        : texts.textTypingAnonymous;
    }
    ui.typing.hidden = !on;
  }

  // The conversation.

  // Take the latest word on the conversation. `complete` answers (HTTP, `status`) carry the place in the queue;
  // `conversation` events do not, so those ask for a complete one.
  function adopt(next, complete) {
    if (!next || typeof next.id !== "number") { return; }
    var previous = conversation;
    var same = !!previous && previous.id === next.id;
    // A late answer: an ended chat stays ended, unless the visitor's message continued it.
    if (same && ENDED[previous.status] && !ENDED[next.status] && !previous.may_continue) { return; }
    if (!ENDED[next.status]) { ratingPassed = false; }  // closed again later, it asks for a rating again
    if (!same) { resetChat(); }
    if (same && !next.expert_name && previous.expert_name && ASSIGNED[next.status]) {
      next.expert_name = previous.expert_name;
    }
    // Socket events leave the WhatsApp link out (only complete answers carry it): the last one holds.
    if (same && !Object.prototype.hasOwnProperty.call(next, "whatsapp_link")) {
      next.whatsapp_link = previous.whatsapp_link;
    }
    if (!QUEUED[next.status]) {
      queue = null;
    } else if (complete) {
      queue = { position: next.position, estimate: next.estimated_wait_seconds,
                nobody: next.no_expert_available === true };
    }
    if (!queue || !queue.nobody || (same && previous.status !== next.status)) { keptWaiting = false; }
    conversation = next;
    if (!same) { save(CONVERSATION_NAME, String(next.id)); }
    if (ENDED[next.status]) {
      stopSocket();
      // its history shows (over HTTP: no socket for a closed chat)
      if (next.status === CLOSED || next.status === RESOLVED) { sync(); }
    } else {
      connect();
      if (!complete && (QUEUED[next.status] || !next.expert_name)) { requestStatus(); }
    }
    render();
    root.dispatchEvent(new CustomEvent("marketplace:conversation", { detail: { conversation: next } }));
  }

  function isCurrent(id) { return !!conversation && conversation.id === id; }

  // The visitor may write: the chat is open, or closed within the brand's reopen window.
  function writable(c) { return !!c && (!ENDED[c.status] || c.may_continue === true); }

  function adoptFor(id, answer) {
    if (isCurrent(id)) { adopt(answer, true); }
  }

  function requestStatus() {
    if (!conversation) { return; }
    var id = conversation.id;
    statusAskedAt = Date.now();
    if (connected()) {
      socket.emit("status", {}, function (answer) {
        if (answer && answer.ok) { adoptFor(id, answer.conversation); }
      });
      return;
    }
    call("GET", "/conversations/" + id).then(function (answer) { adoptFor(id, answer); }, function (error) {
      if (!transient(error) && isCurrent(id)) { finish(texts.textLost); }
    });
  }

  // Forget the conversation: after a rating or a left message, or when it cannot be found any more.
  function forget() {
    drop(CONVERSATION_NAME);
    conversation = null;
    queue = null;
    stopSocket();
  }

  function finish(notice) {
    forget();
    resetChat();
    showStart(notice);
  }

  function resetChat() {
    chatLog.clear();
    syncing = false;
    chosenLeave = false;
    ratingPassed = false;
    keptWaiting = false;
    typingUntil = 0;
    lastSeq = 0;
    lastSender = null;
    ui.input.value = "";
    [ui.startForm, ui.composer, ui.leaveForm, ui.ratingForm, ui.emailForm].forEach(clearErrors);
    ui.emailForm.reset();
    [ui.leaveForm, ui.ratingForm].forEach(function (form) {
      form.reset();
      form.hidden = false;
      form.parentNode.querySelector("[data-done]").hidden = true;
    });
    ui.ratingBack.hidden = true;
    renderStars();
  }

  // The socket.

  function connect() {
    if (!hasSocket || !conversation || (socket && socket.conversationId === conversation.id)) { return; }
    stopSocket();
    var mine = window.io("/visitor", {
      auth: { key: key, token: token, conversation_id: conversation.id },
      transports: ["websocket", "polling"],
      forceNew: true,  // a new conversation's socket carries its own auth, never a cached connection's
      tryAllTransports: true  // where a proxy blocks WebSocket, fall back to polling instead of retrying forever
    });
    mine.conversationId = conversation.id;
    socket = mine;
    socketTrouble = false;
    function on(event, handler) {
      mine.on(event, function (data) { if (mine === socket) { handler(data); } });  // a replaced socket is ignored
    }
    on("connect", onConnect);
    on("disconnect", onDisconnect);
    on("connect_error", function () { onConnectError(mine); });
    on("message", onMessage);
    on("conversation", function (event) { adopt(event, false); });
    on("typing", onTyping);
  }

  function stopSocket() {
    if (!socket) { return; }
    var old = socket;
    socket = null;
    old.off();
    old.disconnect();
  }

  function onConnect() {
    socketTrouble = false;
    syncing = false;  // an answer lost with the old connection never comes
    chatLog.log.outbox().forEach(function (item) { item.inFlight = false; });
    renderConnection();
    requestStatus();
    sync();
    flush();
  }

  function onDisconnect() {
    socketTrouble = true;
    syncing = false;
    renderConnection();
  }

  // The server refused this conversation (a wrong token, say): socket.io will not retry by itself. Ask over HTTP
  // whether the conversation is still ours; if so, connect again a little later.
  function onConnectError(mine) {
    socketTrouble = true;
    renderConnection();
    if (mine.active || !conversation) { return; }  // a passing failure: socket.io tries again
    var id = conversation.id;
    call("GET", "/conversations/" + id).then(function (answer) {
      adoptFor(id, answer);
      setTimeout(function () { if (mine === socket) { mine.connect(); } }, RETRY_MS);
    }, function (error) {
      if (!transient(error)) {
        if (isCurrent(id)) { finish(texts.textLost); }
        return;
      }
      setTimeout(function () { if (mine === socket) { mine.connect(); } }, RETRY_MS);
    });
  }

  // Every TICK_MS; `now` (a phone back from the background) asks for the status at once.
  function tick(now) {
    if (!conversation) { return; }
    if (ENDED[conversation.status]) {
      if (writable(conversation)) { flush(); }  // a message that would continue it, not sent yet
      return;
    }
    var every = QUEUED[conversation.status] ? QUEUED_STATUS_EVERY_MS : STATUS_EVERY_MS;
    if (now === true || Date.now() - statusAskedAt >= every - TICK_MS / 2) { requestStatus(); }
    if (!connected()) { sync(); flush(); }  // the socket is down: HTTP meanwhile
  }

  // Messages: the log keeps them in seq order, each once, with the visitor's own unnumbered ones after them.

  var chatLog = window.MarketplaceChatLog.createView({
    own: "visitor", document: document, container: ui.log,
    senderLabel: function (sender) {
      var name = sender === "expert" && conversation && conversation.expert_name;
      return name || texts["textSender" + sender.charAt(0).toUpperCase() + sender.slice(1)] || sender;
    },
    formatTime: function (date) { return clock.format(date); },
    attachment: window.MarketplaceAttachments && window.MarketplaceAttachments.createRenderer({
      document: document,
      links: function (attachmentId) {
        return call("GET", "/conversations/" + conversation.id + "/attachments/" + attachmentId + "/link");
      },
      open: function (url, attachment) { window.MarketplaceAttachments.openFile(document, url, attachment); },
      label: function (attachment) {
        return attachment.kind === "image" ? format(texts.textOpenImage, { name: attachment.name })
          : format(texts.textDownload, { name: attachment.name, size: sizeText(attachment.size) });
      }
    })
  });

  function sizeText(bytes) { return window.MarketplaceAttachments.formatSize(bytes, texts.lang); }

  function nearBottom() {
    return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
  }

  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }

  // Show one message in its place; false when it is not this conversation's, or already shown.
  function addMessage(message) {
    if (!conversation || !message || (message.conversation_id != null && message.conversation_id !== conversation.id)) {
      return false;
    }
    var follow = nearBottom();
    var entry = chatLog.receive(message);
    if (entry && (entry.item || follow)) { scrollToEnd(); }
    return !!entry;
  }

  function receive(list) {
    var fresh = 0;
    list.forEach(function (message) {
      if (addMessage(message) && message.sender !== "visitor") { fresh++; }
      if (typeof message.seq === "number" && message.seq > lastSeq) { lastSeq = message.seq; lastSender = message.sender; }
    });
    renderBotFeedback();
    if (!fresh) { return; }
    if (list.some(function (message) { return message.sender === "expert"; })) { typingUntil = 0; }
    renderTyping();
    if (!panelOpen) {
      unread += fresh;
      tell({ type: "marketplace:unread", count: unread });
    }
  }

  function onMessage(message) {
    receive([message]);
    if (chatLog.log.hasGap()) { sync(); }  // one went missing in between: fetch the gap
  }

  function sync() {
    if (!conversation || (ENDED[conversation.status] && conversation.status !== CLOSED
                          && conversation.status !== RESOLVED)) { return; }
    if (syncing) { syncAgain = true; return; }
    var id = conversation.id;
    syncing = true;
    syncAgain = false;
    function done(list) {
      syncing = false;
      if (!isCurrent(id)) { return; }
      receive(list);
      if (list.length >= SYNC_BATCH || syncAgain) { sync(); }
    }
    if (connected()) {
      socket.emit("sync", { after_seq: chatLog.log.contiguous() }, function (answer) {
        if (answer && answer.ok) { done(answer.messages || []); } else { syncing = false; }
      });
    } else {
      call("GET", "/conversations/" + id + "/messages?after=" + chatLog.log.contiguous()).then(function (answer) {
        done(answer.messages || []);
      }, function () { syncing = false; });
    }
  }

  // Sending: shown at once, kept until the server answers, sent again after a silence or a lost connection.

  function send(body) {
    var item = chatLog.send(body, texts.textSending);
    scrollToEnd();
    transmit(item);
  }

  function waiting(item) { return chatLog.log.pending(item.clientId) === item; }

  function transmit(item) {
    if (item.failed || item.inFlight || !conversation || !waiting(item)) { return; }
    var id = conversation.id;
    var payload = { client_id: item.clientId, body: item.body };
    item.inFlight = true;
    if (connected()) {
      socket.timeout(SEND_TIMEOUT_MS).emit("send", payload, function (error, answer) {
        item.inFlight = false;
        if (error) { transmit(item); return; }  // no answer in time, or the connection went: again
        settle(item, answer && answer.ok ? answer.message : null, answer && answer.error);
      });
      return;
    }
    call("POST", "/conversations/" + id + "/messages", payload).then(function (message) {
      item.inFlight = false;
      settle(item, message, null);
    }, function (error) {
      item.inFlight = false;
      if (!transient(error)) { settle(item, null, error.detail); }  // otherwise: at the next connection or tick
    });
  }

  function settle(item, message, error) {
    if (!waiting(item)) { return; }  // the message event showed it first
    if (message && typeof message.seq === "number") {
      receive([message]);
    } else {
      // Refused (the chat ended, say): shown as not sent, never sent again.
      chatLog.fail(item, format(texts.textNotSent, { error: error || texts.textError }));
    }
    followClosed();
  }

  // Written in a closed chat: the message continued it (to follow, with its socket) or came too late (the composer
  // gives way to a new conversation). Either way the status says which.
  function followClosed() {
    if (conversation && ENDED[conversation.status]) { requestStatus(); }
  }

  function flush() { chatLog.log.unsent().forEach(transmit); }

  function onTyping(event) {
    if (!event || event.sender !== "expert") { return; }
    typingUntil = Date.now() + TYPING_SHOWN_MS;
    renderTyping();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
  }

  function typed() {
    if (!conversation || !ASSIGNED[conversation.status] || !connected() || !ui.input.value.trim()) { return; }
    var now = Date.now();
    if (now - typingSentAt < TYPING_EVERY_MS) { return; }
    typingSentAt = now;
    socket.emit("typing", {});
  }

  // What the visitor does.

  function startChat(event) {
    event.preventDefault();
    if (isBusy(ui.start)) { return; }
    clearErrors(ui.startForm);
    var body = { locale: texts.lang };
    if (ui.topic && ui.topic.value) { body.topic = ui.topic.value; }
    if (pageUrl) { body.page_url = pageUrl; }
    busy(ui.start, true);
    call("POST", "/conversations", body).then(function (answer) {
      busy(ui.start, false);
      ui.startNotice.hidden = true;
      adopt(answer, true);
    }, function (error) {
      busy(ui.start, false);
      showProblem(ui.startForm, error);
    });
  }

  function submitMessage(event) {
    event.preventDefault();
    if (!writable(conversation)) { return; }
    var body = ui.input.value.trim();
    if (!body) { ui.input.focus(); return; }
    clearErrors(ui.composer);
    if (body.length > BODY_LENGTH) {
      fieldError(ui.composer, "body", format(texts.textTooLong, { count: BODY_LENGTH }));
      ui.input.focus();
      return;
    }
    ui.input.value = "";
    send(body);
    ui.input.focus();
  }

  // A file: checked against the brand's limit here, then by the server (type, scan, size); the caption is the text
  // written so far. It shows once the server has numbered its message.
  function attach() {
    var file = ui.attachInput.files && ui.attachInput.files[0];
    ui.attachInput.value = "";  // the same file may be chosen again after a refusal
    if (!file || uploading || !writable(conversation)) { return; }
    clearErrors(ui.composer);
    if (window.MarketplaceAttachments.tooLarge(file, attachmentMax)) {
      fieldError(ui.composer, "file", format(texts.textFileTooLarge, { size: sizeText(attachmentMax) }));
      return;
    }
    var caption = ui.input.value.trim().slice(0, BODY_LENGTH);
    var id = conversation.id;
    uploading = true;
    ui.attachStatus.textContent = format(texts.textUploading, { name: file.name });
    var body = window.MarketplaceAttachments.formData(file, window.MarketplaceChatLog.newClientId("v-"), caption);
    call("POST", "/conversations/" + id + "/attachments", body).then(function (message) {
      uploading = false;
      ui.attachStatus.textContent = "";
      if (caption && ui.input.value.trim().slice(0, BODY_LENGTH) === caption) { ui.input.value = ""; }
      if (isCurrent(id)) { receive([message]); scrollToEnd(); followClosed(); }
    }, function (error) {
      uploading = false;
      ui.attachStatus.textContent = "";
      showProblem(ui.composer, error);
      if (isCurrent(id)) { followClosed(); }
    });
  }

  function endChat() {
    if (!conversation || isBusy(ui.end)) { return; }
    var id = conversation.id;
    clearErrors(ui.composer);
    busy(ui.end, true);
    call("POST", "/conversations/" + id + "/leave").then(function (answer) {
      busy(ui.end, false);
      adoptFor(id, answer);
    }, function (error) {
      busy(ui.end, false);
      showProblem(ui.composer, error);
    });
  }

  function chooseLeave(on) {
    chosenLeave = on;
    if (conversation) { render(); }
  }

  // The bot: a person at any moment, or the visitor's verdict on its answer (yes resolves the chat, no hands it over).
  function botCall(button, path, body) {
    if (!conversation || isBusy(button)) { return; }
    var id = conversation.id;
    busy(button, true);
    call("POST", "/conversations/" + id + path, body).then(function (answer) {
      busy(button, false);
      adoptFor(id, answer);
    }, function (error) {
      busy(button, false);
      if (isCurrent(id)) { requestStatus(); }
      if (!transient(error)) { return; }
      ui.queue.textContent = texts.textOffline;
    });
  }

  // Told that no expert can take the chat now, the visitor waits all the same: the chat stays queued.
  function keepWaiting() {
    keptWaiting = true;
    if (conversation) { render(); }
    ui.input.focus();
  }

  function sendLeftMessage(event) {
    event.preventDefault();
    if (!conversation || isBusy(ui.sendLeft)) { return; }
    var form = ui.leaveForm;
    var email = ui.leaveEmail.value.trim();
    var body = ui.leaveBody.value.trim();
    clearErrors(form);
    var invalid = null;
    if (!body) { invalid = fieldError(form, "body", texts.textBodyMissing); }
    if (!email) { invalid = fieldError(form, "email", texts.textEmailMissing); }
    else if (!ui.leaveEmail.checkValidity()) { invalid = fieldError(form, "email", texts.textEmailInvalid); }
    if (invalid) { invalid.focus(); return; }
    var id = conversation.id;
    busy(ui.sendLeft, true);
    call("POST", "/conversations/" + id + "/left-message", { email: email, body: body }).then(function () {
      busy(ui.sendLeft, false);
      thank(form, ui.leftThanks);
    }, function (error) {
      busy(ui.sendLeft, false);
      showProblem(form, error);
    });
  }

  // A way back: the address (with consent) where the answer goes if the visitor leaves.
  function giveEmail(event) {
    event.preventDefault();
    if (!conversation || isBusy(ui.giveEmail)) { return; }
    var form = ui.emailForm;
    var email = ui.email.value.trim();
    clearErrors(form);
    var invalid = null;
    if (!ui.consent.checked) { invalid = fieldError(form, "consent", texts.textConsentMissing); }
    if (!email) { invalid = fieldError(form, "email", texts.textEmailMissing); }
    else if (!ui.email.checkValidity()) { invalid = fieldError(form, "email", texts.textEmailInvalid); }
    if (invalid) { invalid.focus(); return; }
    busy(ui.giveEmail, true);
    call("POST", "/conversations/" + conversation.id + "/email", { email: email, consent: true }).then(function (answer) {
      busy(ui.giveEmail, false);
      adopt(answer, true);
    }, function (error) {
      busy(ui.giveEmail, false);
      showProblem(form, error);
    });
  }

  // The transcript by e-mail, to the address the visitor gave (the server allows one every few minutes).
  function sendTranscript() {
    if (!conversation || isBusy(ui.transcript)) { return; }
    busy(ui.transcript, true);
    ui.transcriptNote.textContent = "";
    call("POST", "/conversations/" + conversation.id + "/transcript").then(function () {
      busy(ui.transcript, false);
      ui.transcriptNote.textContent = texts.textTranscriptSent;
    }, function (error) {
      busy(ui.transcript, false);
      ui.transcriptNote.textContent = error.detail || texts.textError;
    });
  }

  function renderStars() {
    var checked = ui.stars.querySelector("input:checked");
    var value = checked ? Number(checked.value) : 0;
    Array.prototype.forEach.call(ui.stars.querySelectorAll("input"), function (input) {
      input.parentNode.classList.toggle("star--on", Number(input.value) <= value);
    });
  }

  function rate(event) {
    event.preventDefault();
    if (!conversation || isBusy(ui.submitRating)) { return; }
    var form = ui.ratingForm;
    clearErrors(form);
    var checked = ui.stars.querySelector("input:checked");
    if (!checked) {
      fieldError(form, "rating", texts.textRatingMissing);
      ui.stars.querySelector("input").focus();
      return;
    }
    var comment = form.elements.comment.value.trim();
    var id = conversation.id;
    busy(ui.submitRating, true);
    call("POST", "/conversations/" + id + "/rating", { rating: Number(checked.value), comment: comment || null })
      .then(function () {
        busy(ui.submitRating, false);
        if (isCurrent(id) && conversation.may_continue) {
          // The chat may still continue: the thanks offer the way back to it as well as a new one.
          ui.ratingBack.hidden = false;
          form.hidden = true;
          form.parentNode.querySelector("[data-done]").hidden = false;
          ui.ratingThanks.focus();
        } else {
          thank(form, ui.ratingThanks);
        }
      }, function (error) {
        busy(ui.submitRating, false);
        showProblem(form, error);
      });
  }

  // Left a message, or rated: that conversation is over for good; the thanks stay until a new chat.
  function thank(form, thanks) {
    forget();
    form.hidden = true;
    form.parentNode.querySelector("[data-done]").hidden = false;
    thanks.focus();
  }

  function skip() { finish(""); }

  // Past the rating (skipped, or given where it may continue), the closed chat shows again with its history: its
  // composer ready within the reopen window, a new conversation offered after it.
  function skipRating() {
    if (!conversation) { skip(); return; }
    ratingPassed = true;
    render();
    focusView();
  }

  function newChat() {
    resetChat();
    showStart("");
    focusView();
  }

  // The brand's opening hours: outside them, starting leads straight to leaving a message.
  function checkOpen() {
    call("GET", "").then(function (info) {
      if (info && typeof info.attachment_max_bytes === "number") {
        attachmentMax = info.attachment_max_bytes;
        ui.attachHint.textContent = format(texts.textAttachLimit, { size: sizeText(attachmentMax) });
      }
      var closed = info && info.open === false;
      ui.closedNote.hidden = !closed;
      if (closed) { ui.start.textContent = texts.textStartClosed; }
    }, function () { /* the start answers for itself */ });
  }

  // Messages from the page around the frame (the loader): the panel opened or closed, with what it keeps for us.
  function fromPage(event) {
    if (!parentOrigin || event.source !== window.parent || event.origin !== parentOrigin) { return; }
    var data = event.data;
    if (!data || data.type !== "marketplace:panel") { return; }
    if (!ownStorage && data.storage && typeof data.storage === "object") {
      [TOKEN_NAME, CONVERSATION_NAME].forEach(function (name) {
        if (typeof data.storage[name] === "string" && !Object.prototype.hasOwnProperty.call(memory, name)) {
          memory[name] = data.storage[name];
        }
      });
      begin();
    }
    panelOpen = data.open === true;
    if (panelOpen) {
      unread = 0;
      focusView();
    }
  }

  // What the widget's other scripts (js/widget_push.js) use: the visitor's calls, and the conversation they answer.
  window.MarketplaceWidget = {
    call: call,
    adopt: function (answer) { adopt(answer, true); },
    conversation: function () { return conversation; }
  };

  // Start: resume the remembered conversation, or offer a new one.
  var begun = false;
  function begin() {
    if (begun) { return; }
    begun = true;
    token = visitorToken();
    checkOpen();
    if (texts.resumeToken) {
      // The e-mailed resume link, opened full page: bind this browser to its conversation, then show it whole.
      call("POST", "/resume", { token: texts.resumeToken }).then(function (answer) { adopt(answer, true); },
        function (error) { showStart(transient(error) ? texts.textError : texts.textResumeFailed); });
      return;
    }
    var remembered = Number(load(CONVERSATION_NAME));
    if (remembered > 0) {
      call("GET", "/conversations/" + remembered).then(function (answer) { adopt(answer, true); }, function (error) {
        if (!transient(error)) { drop(CONVERSATION_NAME); }  // not ours, or gone; a passing failure keeps it
        showStart("");
      });
    } else {
      showStart("");
    }
  }

  ui.close.hidden = !(embedded && parentOrigin);
  ui.close.addEventListener("click", function () { tell({ type: "marketplace:close" }); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) { tell({ type: "marketplace:close" }); }
  });
  window.addEventListener("message", fromPage);
  ui.startForm.addEventListener("submit", startChat);
  ui.composer.addEventListener("submit", submitMessage);
  ui.input.addEventListener("input", typed);
  ui.attachInput.addEventListener("change", attach);
  ui.input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) { return; }
    if (enterAddsLine && !event.ctrlKey && !event.metaKey) { return; }
    event.preventDefault();
    if (ui.composer.requestSubmit) { ui.composer.requestSubmit(); } else { submitMessage(event); }
  });
  ui.end.addEventListener("click", endChat);
  ui.leaveInstead.addEventListener("click", function () { chooseLeave(true); });
  ui.nobodyLeave.addEventListener("click", function () { chooseLeave(true); });
  ui.keepWaiting.addEventListener("click", keepWaiting);
  ui.talkToExpert.addEventListener("click", function () { botCall(ui.talkToExpert, "/expert"); });
  ui.botNotHelpful.addEventListener("click", function () {
    botCall(ui.botNotHelpful, "/bot-feedback", { helpful: false });
  });
  ui.botHelpful.addEventListener("click", function () {
    botCall(ui.botHelpful, "/bot-feedback", { helpful: true });
  });
  ui.backToChat.addEventListener("click", function () { chooseLeave(false); });
  ui.skipLeave.addEventListener("click", skip);
  ui.leaveForm.addEventListener("submit", sendLeftMessage);
  ui.emailForm.addEventListener("submit", giveEmail);
  ui.transcript.addEventListener("click", sendTranscript);
  ui.stars.addEventListener("change", function () {
    renderStars();
    ui.ratingForm.querySelector("[data-error-for=rating]").textContent = "";
  });
  ui.ratingForm.addEventListener("submit", rate);
  ui.skipRating.addEventListener("click", skipRating);
  ui.ratingBack.addEventListener("click", skipRating);
  ui.startNew.addEventListener("click", function () { finish(""); focusView(); });
  Array.prototype.forEach.call(root.querySelectorAll("[data-new-chat]"), function (button) {
    button.addEventListener("click", newChat);
  });
  document.addEventListener("visibilitychange", function () {
    // A phone back from the background says so at once, and catches up if the socket is still waking.
    if (document.visibilityState === "visible") { tick(true); }
  });
  setInterval(tick, TICK_MS);

  if (ownStorage || !embedded || !parentOrigin) {
    begin();
  } else {
    setTimeout(begin, PAGE_STORAGE_WAIT_MS);  // a loader that never answers: start afresh
  }
})();
