// The canned answers' matching and the "/letters" they answer to (marketplace/static/js/canned_answers.js), under
// node's test runner.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Canned = require("../../marketplace/static/js/canned_answers.js");

const answers = [
  { title: "Refund policy", body: "Refunds take five days." },
  { title: "Shipping", body: "We ship worldwide; refunds are separate." },
  { title: "Café hours", body: "Open from eight." },
  { title: "Our refund form", body: "Fill it in online." }
];

function titles(found) { return found.map((answer) => answer.title); }

test("titles starting with the query come first, then titles holding it, then bodies holding it", () => {
  assert.deepEqual(titles(Canned.matches(answers, "ref")), ["Refund policy", "Our refund form", "Shipping"]);
});

test("accents and case are ignored on both sides", () => {
  assert.deepEqual(titles(Canned.matches(answers, "CAFE")), ["Café hours"]);
  assert.deepEqual(titles(Canned.matches(answers, "café")), ["Café hours"]);
  assert.equal(Canned.fold("Éclair À"), "eclair a");
});

test("an empty query lists every answer in its order, at most SHOWN of them", () => {
  assert.deepEqual(titles(Canned.matches(answers, "")), answers.map((answer) => answer.title));
  const many = Array.from({ length: 12 }, (_, i) => ({ title: "Answer " + i, body: "" }));
  assert.equal(Canned.matches(many, "").length, Canned.SHOWN);
  assert.equal(Canned.SHOWN, 8);
});

test("nothing matching lists nothing", () => {
  assert.deepEqual(Canned.matches(answers, "zzz"), []);
});

test("a slash at the start or after a space, up to the caret, is a query", () => {
  assert.deepEqual(Canned.slashQuery("/ref", 4, 4), { start: 0, query: "ref" });
  assert.deepEqual(Canned.slashQuery("Hello /sh", 9, 9), { start: 6, query: "sh" });
  assert.deepEqual(Canned.slashQuery("Hello /", 7, 7), { start: 6, query: "" });
  assert.deepEqual(Canned.slashQuery("/ref and more", 4, 4), { start: 0, query: "ref" });
});

test("no query inside a word, after a space past the letters, or with a selection", () => {
  assert.equal(Canned.slashQuery("and/or", 6, 6), null);
  assert.equal(Canned.slashQuery("/ref ", 5, 5), null);
  assert.equal(Canned.slashQuery("/ref", 1, 4), null);
  assert.equal(Canned.slashQuery("/" + "a".repeat(41), 42, 42), null);
});
