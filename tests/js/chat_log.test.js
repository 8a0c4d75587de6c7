// The chat log shared by the widget and the inbox (marketplace/static/js/chat_log.js), under node's test runner.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const ChatLog = require("../../marketplace/static/js/chat_log.js");
const { createDocument, FakeElement } = require("./fake_dom.js");

function message(seq, sender, body, extra) {
  return { conversation_id: 7, seq, sender, body, client_id: null, created_at: "2026-11-30T09:05:00", ...extra };
}

function newView(options) {
  const container = new FakeElement("div");
  const view = ChatLog.createView({
    own: "visitor", document: createDocument(), container,
    senderLabel: (sender) => ({ visitor: "You", expert: "Emma" })[sender],
    formatTime: (date) => date.toISOString().slice(11, 16),
    ...options
  });
  return { view, container };
}

function shown(container) {
  return container.children.map((node) => [node.dataset.seq || null, node.find("message__body").textContent]);
}

// The log, without a DOM.

test("messages are held in seq order whatever order they arrive in", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  [3, 1, 5, 2, 4].forEach((seq) => assert.ok(log.receive(message(seq, "expert", "m" + seq))));
  assert.deepEqual(log.seqs(), [1, 2, 3, 4, 5]);
  assert.equal(log.after(2), 3);
  assert.equal(log.after(5), null);
  assert.equal(log.entry(4).message.body, "m4");
});

test("a seq already held is not shown again, and keeps its first body", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  assert.ok(log.receive(message(1, "expert", "first")));
  assert.equal(log.receive(message(1, "expert", "again")), null);
  assert.deepEqual(log.seqs(), [1]);
  assert.equal(log.entry(1).message.body, "first");
});

test("a message without a whole seq from 1 up is refused", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  [undefined, null, 0, -1, 1.5, "2", NaN].forEach((seq) => {
    assert.equal(log.receive(message(seq, "expert", "x")), null, String(seq));
  });
  assert.equal(log.receive(null), null);
  assert.deepEqual(log.seqs(), []);
});

test("contiguous stops below a gap and moves past it once the missing message comes", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  assert.equal(log.contiguous(), 0);
  assert.equal(log.hasGap(), false);
  [1, 2, 4, 5].forEach((seq) => log.receive(message(seq, "expert", "m")));
  assert.equal(log.contiguous(), 2);
  assert.equal(log.last(), 5);
  assert.equal(log.hasGap(), true);
  log.receive(message(3, "expert", "late"));
  assert.equal(log.contiguous(), 5);
  assert.equal(log.hasGap(), false);
});

test("a log that starts past seq 1 counts nothing as contiguous until seq 1 comes", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  log.receive(message(2, "expert", "m"));
  assert.equal(log.contiguous(), 0);
  assert.equal(log.hasGap(), true);
});

test("an own message numbered by the server settles its outbox item by client id", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  const first = log.queue("hello");
  const second = log.queue("anyone?");
  assert.match(first.clientId, /^v-[0-9a-f]{24}$/);
  assert.notEqual(first.clientId, second.clientId);
  assert.deepEqual(log.unsent(), [first, second]);

  const entry = log.receive(message(1, "visitor", "hello", { client_id: first.clientId }));
  assert.equal(entry.item, first);
  assert.equal(log.pending(first.clientId), null);
  assert.deepEqual(log.outbox(), [second]);
  assert.equal(log.contiguous(), 1);
});

test("only the page's own sender settles the outbox; an unknown client id is a message like any other", () => {
  const log = ChatLog.createLog({ own: "expert" });
  const item = log.queue("on my way", "e-1");
  assert.equal(log.receive(message(1, "visitor", "x", { client_id: "e-1" })).item, null);
  assert.equal(log.pending("e-1"), item);
  assert.equal(log.receive(message(2, "expert", "from another tab", { client_id: "e-2" })).item, null);
  assert.equal(log.receive(message(3, "expert", "on my way", { client_id: "e-1" })).item, item);
  assert.deepEqual(log.outbox(), []);
});

test("a refused message stays in the outbox but is never sent again", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  const refused = log.queue("too late");
  const next = log.queue("still sending");
  refused.inFlight = true;
  log.fail(refused);
  assert.equal(refused.failed, true);
  assert.equal(refused.inFlight, false);
  assert.deepEqual(log.outbox(), [refused, next]);
  assert.deepEqual(log.unsent(), [next]);
});

test("clear forgets messages, outbox and progress", () => {
  const log = ChatLog.createLog({ own: "visitor" });
  log.receive(message(1, "expert", "m"));
  log.queue("x");
  log.clear();
  assert.deepEqual([log.seqs(), log.outbox(), log.contiguous(), log.last()], [[], [], 0, 0]);
  assert.ok(log.receive(message(1, "expert", "m")));
});

test("the log reads the server's times with clock.js", () => {
  assert.equal(ChatLog.parseTime, require("../../marketplace/static/js/clock.js").parseTime);
});

// The view.

test("the view shows each message once, a late one in its place", () => {
  const { view, container } = newView();
  view.receive(message(1, "expert", "one"));
  view.receive(message(3, "expert", "three"));
  assert.equal(view.receive(message(3, "expert", "three again")), null);
  view.receive(message(2, "visitor", "two"));
  assert.deepEqual(shown(container), [["1", "one"], ["2", "two"], ["3", "three"]]);
  assert.equal(view.node(2).dataset.sender, "visitor");
  assert.equal(view.node(2).dataset.state, "sent");
});

test("a message body is shown as text, never as HTML", () => {
  const { view } = newView();
  const body = "<img src=x onerror=alert(1)><b>bold</b> & 5 < 6";
  const entry = view.receive(message(1, "expert", body));
  const node = entry.node;
  assert.equal(node.find("message__body").textContent, body);
  assert.deepEqual(node.descendants().map((child) => child.tagName), ["SPAN", "P", "P", "TIME", "SPAN"]);
  assert.equal(node.find("message__body").children.length, 0);
});

test("a message carries who sent it, its time and its state", () => {
  const { view } = newView();
  const node = view.receive(message(1, "expert", "hello")).node;
  assert.equal(node.className, "message message--expert");
  assert.equal(node.find("visually-hidden").textContent, "Emma: ");
  const time = node.descendants().find((child) => child.tagName === "TIME");
  assert.equal(time.getAttribute("datetime"), "2026-11-30T09:05:00.000Z");
  assert.equal(time.textContent, "09:05");
  assert.equal(node.find("message__state").textContent, "");
});

test("an own message waits as sending after the numbered ones, then takes its place once numbered", () => {
  const { view, container } = newView();
  view.receive(message(1, "expert", "hi"));
  const item = view.send("<i>my</i> question", "Sending…");
  assert.equal(item.node.dataset.state, "sending");
  assert.ok(item.node.classList.contains("message--pending"));
  assert.equal(item.node.find("message__state").textContent, "Sending…");
  view.receive(message(3, "expert", "are you there?"));
  assert.deepEqual(shown(container), [["1", "hi"], ["3", "are you there?"], [null, "<i>my</i> question"]]);

  const entry = view.receive(message(2, "visitor", "my question", { client_id: item.clientId }));
  assert.equal(entry.node, item.node);  // the same element, not a second copy
  assert.deepEqual(shown(container), [["1", "hi"], ["2", "my question"], ["3", "are you there?"]]);
  assert.equal(item.node.dataset.state, "sent");
  assert.ok(!item.node.classList.contains("message--pending"));
  assert.equal(item.node.find("message__state").textContent, "");
  assert.equal(view.log.pending(item.clientId), null);
});

test("a refused own message is shown as not sent, with the reason", () => {
  const { view, container } = newView();
  const item = view.send("hello", "Sending…");
  view.fail(item, "Not sent: the chat has ended.");
  assert.equal(item.node.dataset.state, "failed");
  assert.ok(item.node.classList.contains("message--failed"));
  assert.ok(!item.node.classList.contains("message--pending"));
  assert.equal(item.node.find("message__state").textContent, "Not sent: the chat has ended.");
  assert.deepEqual(view.log.unsent(), []);
  assert.equal(container.children.length, 1);
});

test("a log off screen keeps its messages and shows them in order once attached", () => {
  const { view, container } = newView({ own: "expert", container: null });
  view.receive(message(2, "visitor", "two"));
  view.send("answer", "Sending…");
  view.receive(message(1, "visitor", "one"));
  assert.equal(container.children.length, 0);
  const screen = new FakeElement("div");
  screen.appendChild(new FakeElement("div"));  // another chat's message
  view.attach(screen);
  assert.deepEqual(shown(screen), [["1", "one"], ["2", "two"], [null, "answer"]]);
  view.receive(message(3, "visitor", "three"));
  assert.deepEqual(shown(screen).map(([seq]) => seq), ["1", "2", "3", null]);
  view.detach();
  assert.equal(screen.children.length, 0);
  view.receive(message(4, "visitor", "four"));
  assert.equal(screen.children.length, 0);
});

test("clear empties the container and starts afresh", () => {
  const { view, container } = newView();
  view.receive(message(1, "expert", "old chat"));
  view.send("unsent", "Sending…");
  view.clear();
  assert.equal(container.children.length, 0);
  assert.equal(view.log.contiguous(), 0);
  view.receive(message(1, "expert", "new chat"));
  assert.deepEqual(shown(container), [["1", "new chat"]]);
});

test("a messaging app's delivery state shows under a message and follows what the app reports", () => {
  const labels = { sent: "Sent", delivered: "Delivered" };
  const { view, container } = newView({ own: "expert", delivery: (m) => (m.delivery ? labels[m.delivery.state] : "") });
  view.receive(message(1, "visitor", "Hello"));
  view.receive(message(2, "expert", "Hi", { delivery: { state: "sent", error: null } }));
  const states = () => container.children.map((node) => node.find("message__state").textContent);
  assert.deepEqual(states(), ["", "Sent"]);
  view.delivery(2, "Delivered");
  view.delivery(9, "Read");  // a message this view does not hold: nothing happens
  assert.deepEqual(states(), ["", "Delivered"]);
});
