// A messaging app's window in the expert's composer (inbox.js): the time left to write freely (WhatsApp's 24 hours,
// Messenger's 7 days), and once WhatsApp's has closed, a picker of the number's approved templates in place of the
// free-text box (the only thing Meta lets through then). Kept apart from inbox.js so it can be tested under node with fake_dom.js. Loaded as a plain <script> before
// inbox.js, it defines window.MarketplaceChannelWindow; under node it is module.exports.
//
//   MarketplaceChannelWindow.windowText(closesAt, now, labels) -> "Window closes in 3 h 12 min", the closed text,
//                                          or "" without a window (closesAt: epoch ms or NaN). Labels: labelWindowLeft
//                                          ("… {time}"), labelWindowShut, labelHoursMinutes ("{hours} h {minutes} min"),
//                                          labelMinutes ("{minutes} min"), and labelDaysHours ("{days} d {hours} h",
//                                          past 24 hours, when given).
//   MarketplaceChannelWindow.picker({document, root, labels, send(templateId, parameters, done(error))})
//     .show(key, templates) -> draws the picker for a conversation (again only when the key or the templates change,
//                              so what the expert typed stays; empty while templates is null, on its way);
//     .hide(); .submit() -> sends the chosen template.
(function (factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    window.MarketplaceChannelWindow = api;
  }
}(function () {
  "use strict";

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function windowText(closesAt, now, labels) {
    if (typeof closesAt !== "number" || isNaN(closesAt)) { return ""; }
    if (closesAt <= now) { return labels.labelWindowShut; }
    var minutes = Math.max(1, Math.ceil((closesAt - now) / 60000));  // "1 min" up to the last second
    var hours = Math.floor(minutes / 60);
    var time = hours >= 24 && labels.labelDaysHours
      ? format(labels.labelDaysHours, { days: Math.floor(hours / 24), hours: hours % 24 })
      : hours ? format(labels.labelHoursMinutes, { hours: hours, minutes: minutes % 60 })
        : format(labels.labelMinutes, { minutes: minutes });
    return format(labels.labelWindowLeft, { time: time });
  }

  function picker(options) {
    var doc = options.document;
    var root = options.root;
    var labels = options.labels;
    var shown = null;      // what is drawn: key and templates, so a redraw each minute keeps the expert's input
    var chosen = null;
    var fields = [];
    var select, preview, params, error, button;

    function element(tag, className, text) {
      var node = doc.createElement(tag);
      if (className) { node.className = className; }
      if (text) { node.textContent = text; }
      return node;
    }

    function choose(template) {
      chosen = template;
      preview.textContent = template ? template.body : "";
      params.replaceChildren();
      fields = [];
      error.textContent = "";
      for (var n = 1; template && n <= template.parameters; n += 1) {
        var label = element("label", "template-picker__parameter", format(labels.labelParameter, { number: n }));
        var input = element("input");
        input.type = "text";
        input.value = "";
        input.setAttribute("data-testid", "template-parameter");
        label.appendChild(input);
        params.appendChild(label);
        fields.push(input);
      }
      button.disabled = !template;
    }

    function draw(templates) {
      root.replaceChildren();
      chosen = null;
      if (!templates) { return; }  // still on their way
      if (!templates.length) {
        root.appendChild(element("p", "hint", labels.labelNoTemplates));
        return;
      }
      var label = element("label", "template-picker__label", labels.labelTemplate);
      select = element("select");
      select.setAttribute("data-testid", "template-select");
      templates.forEach(function (template) {
        var option = element("option", "", template.name + " (" + template.language + ")");
        option.value = String(template.id);
        select.appendChild(option);
      });
      select.value = String(templates[0].id);
      select.addEventListener("change", function () {
        choose(templates.filter(function (t) { return String(t.id) === select.value; })[0] || null);
      });
      label.appendChild(select);
      preview = element("p", "template-picker__preview");
      preview.setAttribute("data-testid", "template-preview");
      params = element("div", "template-picker__parameters");
      error = element("p", "error");
      error.setAttribute("role", "alert");
      error.setAttribute("data-testid", "template-error");
      button = element("button", "button composer__send", labels.labelSendTemplate);
      button.type = "button";
      button.setAttribute("data-testid", "template-send");
      button.addEventListener("click", submit);
      [label, preview, params, error, button].forEach(function (node) { root.appendChild(node); });
      choose(templates[0]);
    }

    function show(key, templates) {
      root.hidden = false;
      if (shown && shown.key === key && shown.templates === templates) { return; }
      shown = { key: key, templates: templates };
      draw(templates);
    }

    function hide() {
      root.hidden = true;
      root.replaceChildren();
      shown = null;
      chosen = null;
    }

    function submit() {
      if (!chosen || button.disabled) { return; }
      var values = fields.map(function (input) { return String(input.value || "").trim(); });
      var empty = values.indexOf("");
      if (empty >= 0) {
        error.textContent = labels.labelFillParameters;
        if (fields[empty].focus) { fields[empty].focus(); }
        return;
      }
      error.textContent = "";
      button.disabled = true;
      options.send(chosen.id, values, function (failure) {
        button.disabled = false;
        if (failure) { error.textContent = failure; return; }
        fields.forEach(function (input) { input.value = ""; });
      });
    }

    return { show: show, hide: hide, submit: submit };
  }

  return { windowText: windowText, picker: picker };
}));
