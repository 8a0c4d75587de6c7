// Server times and the brand's clock (marketplace/static/js/clock.js), under node's test runner.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const Clock = require("../../marketplace/static/js/clock.js");

test("server times without a zone are read as UTC", () => {
  assert.equal(Clock.parseTime("2026-11-30T09:05:00"), Date.UTC(2026, 10, 30, 9, 5));
  assert.equal(Clock.parseTime("2026-11-30T09:05:00.250"), Date.UTC(2026, 10, 30, 9, 5, 0, 250));
  assert.equal(Clock.parseTime("2026-11-30T09:05:00Z"), Date.UTC(2026, 10, 30, 9, 5));
  assert.equal(Clock.parseTime("2026-11-30T10:05:00+01:00"), Date.UTC(2026, 10, 30, 9, 5));
  assert.equal(Clock.parseTime("2026-11-30T04:05:00-0500"), Date.UTC(2026, 10, 30, 9, 5));
});

test("no time, or not a text, is NaN", () => {
  for (const nothing of ["", null, undefined, 42]) {
    assert.ok(Number.isNaN(Clock.parseTime(nothing)), String(nothing));
  }
});

test("clock times are shown on the brand's clock", () => {
  const when = Date.UTC(2026, 6, 1, 14, 5);  // 16:05 in Paris (summer time), 10:05 in New York, 23:05 in Tokyo
  assert.equal(Clock.timeFormat("en-GB", "Europe/Paris").format(when), "16:05");
  assert.equal(Clock.timeFormat("en-GB", "America/New_York").format(when), "10:05");
  assert.equal(Clock.timeFormat("fr", "Asia/Tokyo").format(when), "23:05");
});

test("a zone this browser does not know falls back to the reader's own clock", () => {
  const when = Date.UTC(2026, 6, 1, 10, 0);
  const own = new Intl.DateTimeFormat("en-GB", { hour: "numeric", minute: "2-digit" }).format(when);
  assert.equal(Clock.timeFormat("en-GB", "Mars/Olympus_Mons").format(when), own);
});
