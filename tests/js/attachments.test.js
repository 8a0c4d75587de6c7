// Files in a chat (marketplace/static/js/attachments.js) and in the chat log's view, under node's test runner.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Attachments = require("../../marketplace/static/js/attachments.js");
const ChatLog = require("../../marketplace/static/js/chat_log.js");
const { createDocument, FakeElement } = require("./fake_dom.js");

const PHOTO = { id: 4, kind: "image", name: "lamp.jpg", content_type: "image/jpeg", size: 2048, width: 480,
                height: 640, has_thumbnail: true };
const PDF = { id: 5, kind: "pdf", name: "notice.pdf", content_type: "application/pdf", size: 3 * 1024 * 1024,
              width: null, height: null, has_thumbnail: false };

function renderer(opened, asked) {
  let serial = 0;
  return Attachments.createRenderer({
    document: createDocument(),
    links: (id) => {
      asked.push(id);
      serial += 1;
      return Promise.resolve({ url: `/attachments/${id}/file?t=${serial}`,
                               thumbnail_url: `/attachments/${id}/thumbnail?t=${serial}` });
    },
    open: (url, attachment) => opened.push([url, attachment.name]),
    label: (attachment) => `Open ${attachment.name}`
  });
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test("a photo shows its thumbnail from a fresh link and opens the full image with another", async () => {
  const opened = [], asked = [];
  const node = renderer(opened, asked)(PHOTO);
  await settled();
  const image = node.find("attachment__thumbnail");
  assert.equal(image.getAttribute("src"), "/attachments/4/thumbnail?t=1");
  assert.equal(image.getAttribute("alt"), "lamp.jpg");
  assert.equal(image.getAttribute("width"), "240");
  assert.equal(image.getAttribute("height"), "320");
  assert.equal(node.getAttribute("data-testid"), "attachment-image");

  assert.equal(node.dispatch("click"), true);  // the "#" is never followed
  await settled();
  assert.deepEqual(opened, [["/attachments/4/file?t=2", "lamp.jpg"]]);
  assert.deepEqual(asked, [4, 4]);
});

test("a pdf is a named link, asked for only when clicked", async () => {
  const opened = [], asked = [];
  const node = renderer(opened, asked)(PDF);
  await settled();
  assert.equal(node.find("attachment__thumbnail"), null);
  assert.equal(node.find("attachment__name").textContent, "Open notice.pdf");
  assert.deepEqual(asked, []);
  node.dispatch("click");
  await settled();
  assert.deepEqual(opened, [["/attachments/5/file?t=1", "notice.pdf"]]);
});

test("the file's name goes in as text, never as markup", () => {
  const node = renderer([], [])({ ...PDF, name: "<img src=x onerror=alert(1)>.pdf" });
  assert.equal(node.find("attachment__name").textContent, "Open <img src=x onerror=alert(1)>.pdf");
});

test("sizes read as the sender's language writes them", () => {
  assert.equal(Attachments.formatSize(10 * 1024 * 1024, "en"), "10 MB");
  assert.equal(Attachments.formatSize(1.5 * 1024 * 1024, "fr").replace(/\s/g, " "), "1,5 Mo");
});

test("a file over the limit told by the server is caught before it is sent", () => {
  assert.equal(Attachments.tooLarge({ size: 10 * 1024 * 1024 + 1 }, 10 * 1024 * 1024), true);
  assert.equal(Attachments.tooLarge({ size: 10 * 1024 * 1024 }, 10 * 1024 * 1024), false);
  assert.equal(Attachments.tooLarge({ size: 5 }, undefined), false);  // no limit told yet: the server decides
});

test("the chat log shows a message's file before its caption, and hides an empty caption", () => {
  const container = new FakeElement("div");
  const view = ChatLog.createView({
    own: "expert", document: createDocument(), container,
    attachment: (attachment) => { const node = new FakeElement("a"); node.className = "file-" + attachment.id; return node; }
  });
  view.receive({ conversation_id: 7, seq: 1, sender: "visitor", body: "", client_id: "v-1",
                 created_at: "2026-11-30T09:05:00", attachment: PHOTO });
  view.receive({ conversation_id: 7, seq: 2, sender: "visitor", body: "The manual", client_id: "v-2",
                 created_at: "2026-11-30T09:06:00", attachment: PDF });
  const [first, second] = container.children;
  assert.ok(first.find("file-4") && first.classList.contains("message--attachment"));
  assert.equal(first.find("message__body").hidden, true);
  assert.ok(second.find("file-5"));
  assert.equal(second.find("message__body").hidden, false);
  assert.equal(second.find("message__body").textContent, "The manual");
});
