// WhatsApp's window in the expert's composer (marketplace/static/js/channel_window.js), under node's test runner.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const ChannelWindow = require("../../marketplace/static/js/channel_window.js");
const { createDocument, FakeElement } = require("./fake_dom.js");

const LABELS = {
  labelWindowLeft: "Window closes in {time}", labelWindowShut: "The window has closed: send a template.",
  labelHoursMinutes: "{hours} h {minutes} min", labelMinutes: "{minutes} min", labelParameter: "Parameter {number}",
  labelTemplate: "Template", labelSendTemplate: "Send the template", labelNoTemplates: "No approved template.",
  labelFillParameters: "Fill in every parameter."
};
const NOW = Date.UTC(2026, 11, 6, 12, 0);
const MINUTE = 60000;

test("the time left in the window, in hours and minutes", () => {
  assert.equal(ChannelWindow.windowText(NOW + (3 * 60 + 12) * MINUTE, NOW, LABELS), "Window closes in 3 h 12 min");
  assert.equal(ChannelWindow.windowText(NOW + 23 * 60 * MINUTE + 30000, NOW, LABELS), "Window closes in 23 h 1 min");
  assert.equal(ChannelWindow.windowText(NOW + 59 * MINUTE, NOW, LABELS), "Window closes in 59 min");
  assert.equal(ChannelWindow.windowText(NOW + 20000, NOW, LABELS), "Window closes in 1 min");
  // A minute later the text has moved on: the composer redraws it.
  assert.equal(ChannelWindow.windowText(NOW + 60 * MINUTE, NOW + MINUTE, LABELS), "Window closes in 59 min");
});

test("past a day (Messenger's 7 days), the time left in days and hours", () => {
  const labels = { ...LABELS, labelDaysHours: "{days} d {hours} h" };
  assert.equal(ChannelWindow.windowText(NOW + (6 * 24 + 23) * 60 * MINUTE + 30000, NOW, labels),
               "Window closes in 6 d 23 h");
  assert.equal(ChannelWindow.windowText(NOW + 24 * 60 * MINUTE, NOW, labels), "Window closes in 1 d 0 h");
  assert.equal(ChannelWindow.windowText(NOW + 23 * 60 * MINUTE + 59 * MINUTE, NOW, labels),
               "Window closes in 23 h 59 min");
  // Without the label (WhatsApp's window never passes a day), hours as before.
  assert.equal(ChannelWindow.windowText(NOW + 30 * 60 * MINUTE, NOW, LABELS), "Window closes in 30 h 0 min");
});

test("a closed window says so, and no window says nothing", () => {
  assert.equal(ChannelWindow.windowText(NOW, NOW, LABELS), LABELS.labelWindowShut);
  assert.equal(ChannelWindow.windowText(NOW - MINUTE, NOW, LABELS), LABELS.labelWindowShut);
  assert.equal(ChannelWindow.windowText(NaN, NOW, LABELS), "");
});

const TEMPLATES = [
  { id: 7, name: "order_ready", language: "en_US", body: "Hello {{1}}, order {{2}} is ready.", parameters: 2 },
  { id: 9, name: "welcome", language: "fr", body: "Bonjour !", parameters: 0 }
];

function setUp() {
  const root = new FakeElement("div");
  const sent = [];
  let answer = null;
  const picker = ChannelWindow.picker({
    document: createDocument(), root, labels: LABELS,
    send: (id, parameters, done) => { sent.push([id, parameters]); done(answer); }
  });
  const byTestId = (id) => root.descendants().filter((node) => node.getAttribute("data-testid") === id);
  return { root, sent, picker, byTestId, refuse: (text) => { answer = text; } };
}

test("the picker shows the approved templates, one field per parameter, and sends the chosen one", () => {
  const { root, sent, picker, byTestId } = setUp();
  picker.show("12", TEMPLATES);
  assert.equal(root.hidden, false);
  const [select] = byTestId("template-select");
  assert.deepEqual(select.children.map((option) => option.textContent), ["order_ready (en_US)", "welcome (fr)"]);
  assert.equal(byTestId("template-preview")[0].textContent, "Hello {{1}}, order {{2}} is ready.");
  const fields = byTestId("template-parameter");
  assert.equal(fields.length, 2);

  fields[0].value = "Ann";
  byTestId("template-send")[0].dispatch("click");
  assert.deepEqual(sent, []);  // a parameter is missing: nothing goes out
  assert.equal(byTestId("template-error")[0].textContent, "Fill in every parameter.");

  fields[1].value = " A-12 ";
  byTestId("template-send")[0].dispatch("click");
  assert.deepEqual(sent, [[7, ["Ann", "A-12"]]]);
  assert.deepEqual(fields.map((input) => input.value), ["", ""]);

  select.value = "9";
  select.dispatch("change");
  assert.equal(byTestId("template-parameter").length, 0);
  byTestId("template-send")[0].dispatch("click");
  assert.deepEqual(sent[1], [9, []]);
});

test("a redraw for the same chat keeps what the expert typed; the server's refusal shows", () => {
  const { picker, byTestId, refuse } = setUp();
  picker.show("12", TEMPLATES);
  byTestId("template-parameter")[0].value = "Ann";
  picker.show("12", TEMPLATES);
  assert.equal(byTestId("template-parameter")[0].value, "Ann");
  byTestId("template-parameter")[1].value = "A-12";
  refuse("This template takes 2 parameters.");
  picker.submit();
  assert.equal(byTestId("template-error")[0].textContent, "This template takes 2 parameters.");
  assert.equal(byTestId("template-parameter")[0].value, "Ann");  // kept for another try
  picker.show("13", TEMPLATES);
  assert.equal(byTestId("template-parameter")[0].value, "");
});

test("no approved template says so; hidden once the window is open", () => {
  const { root, picker } = setUp();
  picker.show("12", []);
  assert.equal(root.textContent, "No approved template.");
  picker.hide();
  assert.equal(root.hidden, true);
  assert.equal(root.children.length, 0);
});

test("nothing is drawn while the templates are on their way", () => {
  const { root, picker, byTestId } = setUp();
  picker.show("12", null);
  assert.equal(root.hidden, false);
  assert.equal(root.children.length, 0);
  picker.show("12", TEMPLATES);
  assert.equal(byTestId("template-select").length, 1);
});
