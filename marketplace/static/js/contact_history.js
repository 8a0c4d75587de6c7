// Beside the chat an expert holds: the customer's earlier conversations with the same brand, on the web and on
// WhatsApp, each marked with its channel, when the customer proved an e-mail address or a WhatsApp number to it (a
// contact of that brand only). inbox.js tells which chat is shown ("marketplace:chat-shown");
// the list comes from GET /api/v1/conversations/<id>/history, and a conversation's messages, read-only, when it is
// opened. Everything is drawn as text.
(function () {
  "use strict";
  var box = document.querySelector("[data-contact-history]");
  if (!box) { return; }
  var labels = box.dataset;
  var list = box.querySelector("[data-history-list]");
  var count = box.querySelector("[data-field=history-count]");
  var lang = document.documentElement.lang || undefined;
  var when = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  var shown = null;  // the conversation whose history is drawn (or asked for)

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text != null) { node.textContent = text; }
    return node;
  }

  function statusName(status) {
    return labels["status" + status.charAt(0).toUpperCase() + status.slice(1)] || status;
  }

  function channelName(channel) {
    return labels["channel" + channel.charAt(0).toUpperCase() + channel.slice(1)] || channel;
  }

  function senderName(sender) {
    return labels["labelSender" + sender.charAt(0).toUpperCase() + sender.slice(1)] || sender;
  }

  function dateText(text) {
    var date = new Date(text);
    return isNaN(date.getTime()) ? "" : when.format(date);
  }

  function loadTranscript(conversationId, earlier, target) {
    target.textContent = labels.labelLoading;
    getJson(labels.apiBase + "/conversations/" + encodeURIComponent(conversationId) + "/history/" +
            encodeURIComponent(earlier.id)).then(function (answer) {
      target.textContent = "";
      (answer.messages || []).forEach(function (message) {
        var line = element("li", "history__message history__message--" + message.sender);
        line.appendChild(element("strong", null, senderName(message.sender) + " "));
        line.appendChild(element("span", "muted", dateText(message.created_at) + " "));
        var text = message.body || "";
        if (message.attachment_name) { text += (text ? " " : "") + format(labels.labelFile, { name: message.attachment_name }); }
        line.appendChild(element("span", null, text));
        target.appendChild(line);
      });
    }, function () { target.textContent = labels.labelError; });
  }

  function entry(conversationId, earlier) {
    var item = element("li", "history__entry");
    item.dataset.testid = "history-entry";
    item.dataset.conversationId = String(earlier.id);
    item.dataset.channel = earlier.channel;
    var details = element("details");
    var facts = [channelName(earlier.channel), dateText(earlier.created_at), statusName(earlier.status),
                 earlier.topic || labels.labelNoTopic];
    if (earlier.rating != null) { facts.push(format(labels.labelRating, { rating: earlier.rating })); }
    facts.push(format(labels.labelMessages, { count: earlier.message_count }));
    var summary = element("summary", null, facts.join(" · "));
    details.appendChild(summary);
    if (earlier.first_lines) { details.appendChild(element("p", "muted history__first", earlier.first_lines)); }
    var transcript = element("ol", "history__transcript");
    transcript.dataset.testid = "history-transcript";
    details.appendChild(transcript);
    var loaded = false;
    details.addEventListener("toggle", function () {
      if (details.open && !loaded) { loaded = true; loadTranscript(conversationId, earlier, transcript); }
    });
    item.appendChild(details);
    return item;
  }

  function draw(conversationId, history) {
    if (shown !== conversationId) { return; }  // another chat was opened meanwhile
    list.textContent = "";
    if (!history.known) { box.hidden = true; return; }
    var earlier = history.conversations || [];
    count.textContent = earlier.length ? format(labels.labelCount, { count: earlier.length }) : labels.labelNone;
    earlier.forEach(function (conversation) { list.appendChild(entry(conversationId, conversation)); });
    box.hidden = false;
  }

  document.addEventListener("marketplace:chat-shown", function (event) {
    var detail = event.detail || {};
    var id = detail.held ? String(detail.conversationId) : null;
    if (id === shown) { return; }
    shown = id;
    box.hidden = true;
    box.open = false;
    list.textContent = "";
    if (!id) { return; }
    getJson(labels.apiBase + "/conversations/" + encodeURIComponent(id) + "/history")
      .then(function (history) { draw(id, history); }, function () { /* nothing shown: the chat itself goes on */ });
  });
})();
