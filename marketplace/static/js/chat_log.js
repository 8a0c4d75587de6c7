// One chat's log, shared by the visitor's widget (widget.js) and the expert's inbox (inbox.js); the wire protocol is
// routing/README.md. Loaded as a plain <script> before them, it defines window.MarketplaceChatLog; under node
// (tests/js/) it is module.exports. Two layers: a log that knows no DOM, and a view that keeps one element per message.
//
// The log: messages the server numbered (seq 1, 2, 3, ... per conversation), each held once, in seq order, plus the
// page's own messages not numbered yet (the outbox), which are matched to their numbered copy by client_id.
//
//   var log = MarketplaceChatLog.createLog({ own: "visitor" });   // "expert" in the inbox: who writes from this page
//   log.receive(message)   -> entry {seq, message, item} or null. message is the server's {seq, sender, body,
//                             client_id, created_at, ...}. null: no whole seq >= 1, or that seq is held already (a
//                             duplicate). item: the outbox item this message settles (an own message whose client_id
//                             is waiting), now out of the outbox; else null.
//   log.queue(body[, clientId]) -> item {clientId, body, failed: false, inFlight: false}, at the end of the outbox;
//                             a client id is made when none is given. inFlight is the caller's to set.
//   log.fail(item)         -> refused for good (the chat ended, say): kept in the outbox, never to be sent again.
//   log.pending(clientId)  -> the outbox item with that client id, or null (settled, or never queued).
//   log.outbox()           -> the outbox items in the order written, failed ones too.
//   log.unsent()           -> the outbox items still to send (again): not failed.
//   log.contiguous()       -> every seq up to this one is held: a catch-up (`sync`) asks for what comes after it.
//   log.last()             -> the highest seq held (0: none).
//   log.hasGap()           -> a seq below last() is missing: ask for what comes after contiguous().
//   log.has(seq), log.seqs() (held, ascending), log.entry(seq), log.after(seq) (the next held seq above, or null).
//   log.clear()            -> forget everything (a new conversation).
//
// The view: the same log, with one element per message kept in a container, in seq order, then the outbox in the
// order written. Nothing but the `document` given (createElement, and on elements appendChild, insertBefore,
// removeChild, replaceChildren, setAttribute, classList.toggle, dataset, textContent) is touched, so a test can hand
// it a small fake. Bodies are always set as text, never as HTML.
//
//   var view = MarketplaceChatLog.createView({
//     own: "visitor", document: document,
//     container: element,                           // null while the log is not on screen (attach later)
//     senderLabel: function (sender, message) {},   // read out before each message: "You", "Emma", ...
//     formatTime: function (date) {}                // shown under it: "10:42"
//     attachment: function (attachment, message) {} // optional: the element of a message's file (js/attachments.js)
//     delivery: function (message) {}               // optional: its state line once numbered ("Delivered": WhatsApp...)
//   });
//   view.log               -> its log (read from it; change it only through the view, which keeps both in step)
//   view.receive(message)  -> entry or null, as log.receive; entry.node is the message's element, now in its place
//   view.send(body, text[, clientId]) -> outbox item; item.node is shown at the end as "sending" with `text`
//   view.fail(item, text)  -> the item shown as not sent, with `text` (the reason)
//   view.node(seq)         -> the element of a held seq, or null
//   view.delivery(seq, text) -> a held seq's state line changed (a messaging app reported it delivered, read...)
//   view.attach(container) -> show every message there, in order (replacing what it held); view.detach()
//   view.clear()           -> forget every message and remove their elements (the container stays)
//
// A message's element: <div class="message message--SENDER" data-sender data-state="sent|sending|failed"
//   data-seq (once numbered) data-client-id (an own message written here)> <span class="visually-hidden">LABEL: </span>
//   [the attachment's element] <p class="message__body">BODY</p> (hidden when empty) <p class="message__meta"><time datetime></time><span class="message__state">
//   </span></p></div>; .message--pending while sending, .message--failed once refused.
//
// Helpers: MarketplaceChatLog.parseTime(text) -> clock.js's parseTime (load js/clock.js first);
// MarketplaceChatLog.newClientId(prefix) -> prefix + 24 random hex digits.
(function (factory) {
  "use strict";
  if (typeof module === "object" && module && module.exports) {
    module.exports = factory(require("./clock.js"));
  } else {
    window.MarketplaceChatLog = factory(window.MarketplaceClock);
  }
}(function (clock) {
  "use strict";

  function isSeq(value) {
    return typeof value === "number" && value >= 1 && Math.floor(value) === value;
  }

  function newClientId(prefix) {
    var bytes = new Uint8Array(12);
    if (typeof crypto !== "undefined" && crypto.getRandomValues) {
      crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    var hex = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); });
    return (prefix || "") + hex.join("");
  }

  var parseTime = clock.parseTime;

  // The log.

  function createLog(options) {
    var own = (options && options.own) || null;
    var held = {};      // seq -> entry
    var seqs = [];      // the seqs held, ascending
    var outbox = [];    // own messages not numbered yet, in the order written
    var contiguous = 0;

    function pending(clientId) {
      if (!clientId) { return null; }
      for (var i = 0; i < outbox.length; i++) {
        if (outbox[i].clientId === clientId) { return outbox[i]; }
      }
      return null;
    }

    function receive(message) {
      var seq = message && message.seq;
      if (!isSeq(seq) || held[seq]) { return null; }
      var item = own && message.sender === own ? pending(message.client_id) : null;
      if (item) { outbox.splice(outbox.indexOf(item), 1); }
      var entry = { seq: seq, message: message, item: item };
      held[seq] = entry;
      seqs.splice(indexAbove(seq), 0, seq);
      while (held[contiguous + 1]) { contiguous++; }
      return entry;
    }

    function queue(body, clientId) {
      var item = { clientId: clientId || newClientId(own ? own.charAt(0) + "-" : ""), body: String(body),
                   failed: false, inFlight: false };
      outbox.push(item);
      return item;
    }

    // Where seq goes among the held ones: messages mostly come in order, so look from the end.
    function indexAbove(seq) {
      var at = seqs.length;
      while (at > 0 && seqs[at - 1] > seq) { at--; }
      return at;
    }

    function after(seq) {
      var at = indexAbove(seq);
      return at < seqs.length ? seqs[at] : null;
    }

    return {
      receive: receive,
      queue: queue,
      fail: function (item) { item.failed = true; item.inFlight = false; },
      pending: pending,
      outbox: function () { return outbox.slice(); },
      unsent: function () { return outbox.filter(function (item) { return !item.failed; }); },
      contiguous: function () { return contiguous; },
      last: function () { return seqs.length ? seqs[seqs.length - 1] : 0; },
      hasGap: function () { return seqs.length > 0 && seqs[seqs.length - 1] > contiguous; },
      has: function (seq) { return !!held[seq]; },
      entry: function (seq) { return held[seq] || null; },
      seqs: function () { return seqs.slice(); },
      after: after,
      clear: function () {
        held = {};
        seqs = [];
        outbox = [];
        contiguous = 0;
      }
    };
  }

  // The view.

  function createView(options) {
    var doc = options.document;
    var senderLabel = options.senderLabel || function (sender) { return sender; };
    var formatTime = options.formatTime || function (date) { return date.toISOString(); };
    var log = createLog({ own: options.own });
    var container = options.container || null;
    var parts = {};  // seq or "c:" + client id -> {node, body, time, state}

    function element(tag, className) {
      var node = doc.createElement(tag);
      if (className) { node.className = className; }
      return node;
    }

    function build(sender, message) {
      var node = element("div", "message message--" + sender);
      node.dataset.sender = sender;
      var who = element("span", "visually-hidden");
      who.textContent = (senderLabel(sender, message) || sender) + ": ";
      var body = element("p", "message__body");
      body.textContent = String(message.body == null ? "" : message.body);
      var meta = element("p", "message__meta");
      var time = element("time");
      var state = element("span", "message__state");
      meta.appendChild(time);
      meta.appendChild(state);
      node.appendChild(who);
      if (message.attachment && options.attachment) {
        node.classList.toggle("message--attachment", true);
        node.appendChild(options.attachment(message.attachment, message));
        body.hidden = !body.textContent;
      }
      node.appendChild(body);
      node.appendChild(meta);
      return { node: node, body: body, time: time, state: state };
    }

    function setState(piece, state, text) {
      piece.node.classList.toggle("message--pending", state === "sending");
      piece.node.classList.toggle("message--failed", state === "failed");
      piece.node.dataset.state = state;
      piece.state.textContent = text || "";
    }

    function stamp(piece, createdAt) {
      var when = parseTime(createdAt);
      if (isNaN(when)) { return; }
      var date = new Date(when);
      piece.time.setAttribute("datetime", date.toISOString());
      piece.time.textContent = formatTime(date);
    }

    function outboxPiece(item) { return parts["c:" + item.clientId] || null; }

    // Before the next numbered message, else before the first unnumbered one, else at the end.
    function place(piece, seq) {
      if (!container) { return; }
      var next = log.after(seq);
      var before = next === null ? null : parts[next].node;
      if (!before) {
        var waiting = log.outbox()[0];
        before = waiting ? outboxPiece(waiting).node : null;
      }
      container.insertBefore(piece.node, before);
    }

    function receive(message) {
      var entry = log.receive(message);
      if (!entry) { return null; }
      var piece;
      if (entry.item) {
        piece = outboxPiece(entry.item);
        delete parts["c:" + entry.item.clientId];
        piece.body.textContent = String(message.body == null ? "" : message.body);  // as stored: markup stripped
        if (piece.node.parentNode) { piece.node.parentNode.removeChild(piece.node); }
      } else {
        piece = build(message.sender, message);
      }
      setState(piece, "sent", options.delivery ? options.delivery(message) : "");
      piece.node.dataset.seq = String(entry.seq);
      stamp(piece, message.created_at);
      parts[entry.seq] = piece;
      place(piece, entry.seq);
      entry.node = piece.node;
      return entry;
    }

    function send(body, text, clientId) {
      var item = log.queue(body, clientId);
      var piece = build(options.own, { body: item.body });
      piece.node.dataset.clientId = item.clientId;
      setState(piece, "sending", text);
      parts["c:" + item.clientId] = piece;
      item.node = piece.node;
      if (container) { container.appendChild(piece.node); }
      return item;
    }

    function fail(item, text) {
      var piece = outboxPiece(item);
      if (!piece) { return; }  // numbered meanwhile: it was sent after all
      log.fail(item);
      setState(piece, "failed", text);
    }

    function nodes() {
      return log.seqs().map(function (seq) { return parts[seq].node; })
        .concat(log.outbox().map(function (item) { return outboxPiece(item).node; }));
    }

    function detach() {
      if (container) {
        var mine = container;
        nodes().forEach(function (node) { if (node.parentNode === mine) { mine.removeChild(node); } });
      }
      container = null;
    }

    return {
      log: log,
      receive: receive,
      send: send,
      fail: fail,
      node: function (seq) { return parts[seq] ? parts[seq].node : null; },
      // A numbered message's state line (a messaging app's sent, delivered, read, failed), when it changes.
      delivery: function (seq, text) { if (parts[seq]) { parts[seq].state.textContent = text || ""; } },
      attach: function (target) {
        container = target;
        container.replaceChildren.apply(container, nodes());
      },
      detach: detach,
      clear: function () {
        var target = container;
        detach();
        container = target;
        log.clear();
        parts = {};
      }
    };
  }

  return { createLog: createLog, createView: createView, parseTime: parseTime, newClientId: newClientId };
}));
