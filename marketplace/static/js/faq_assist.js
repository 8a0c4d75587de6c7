// The brand's FAQ in the expert's composer (the Chats page, inbox.js): the entries that best match the visitor's last
// message, each one tap from the draft, and "Propose as a FAQ entry" for a good answer the expert wrote (the brand
// approves it; every conversation the bot then resolves with it earns the expert the brand's credit). Loaded as a
// plain <script> before inbox.js, it defines window.MarketplaceFaqAssist.
//
//   var assist = MarketplaceFaqAssist.create({
//     document: document, root: node,          // the panel ([data-testid=faq-assist]), hidden while it has nothing
//     labels: labels,                          // the page's data-label-* texts
//     api: function (method, path, body) {},   // the open chat's call: a promise of {ok, body}
//     fill: function (text) {}                 // put an entry's answer in the draft
//   });
//   assist.show(chat)   -> the open chat ({id, lastVisitorSeq, lastVisitorBody, lastExpertBody}), or null: its
//                          suggestions, asked again when the visitor wrote since
(function () {
  "use strict";

  function create(options) {
    var doc = options.document;
    var root = options.root;
    var labels = options.labels;
    var list = root.querySelector("[data-testid=faq-suggestions]");
    var proposeButton = root.querySelector("[data-testid=propose-faq]");
    var form = root.querySelector("[data-testid=propose-faq-form]");
    var question = form.querySelector("[name=question]");
    var answer = form.querySelector("[name=answer]");
    var note = root.querySelector("[data-testid=propose-faq-note]");
    var chat = null;
    var asked = 0;
    var askedFor = null;  // "chat id:visitor seq" the suggestions shown were asked for

    function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

    function render(suggestions) {
      clear(list);
      suggestions.forEach(function (entry) {
        var item = doc.createElement("li");
        var button = doc.createElement("button");
        button.type = "button";
        button.className = "faq-assist__entry";
        button.setAttribute("data-testid", "faq-suggestion");
        button.textContent = entry.question;
        button.title = entry.answer;
        button.addEventListener("click", function () { options.fill(entry.answer); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = !suggestions.length;
      root.querySelector("[data-faq-heading]").hidden = !suggestions.length;
    }

    function show(next) {
      var changed = chat !== next;
      chat = next;
      root.hidden = !chat;
      if (changed) {
        form.hidden = true;
        note.textContent = "";
      }
      proposeButton.hidden = !chat || !chat.lastExpertBody;
      if (!chat) { render([]); askedFor = null; return; }
      // Asked again only for another chat or a new visitor message: the expert's own messages change nothing.
      var key = chat.id + ":" + (chat.lastVisitorSeq || 0);
      if (key === askedFor) { return; }
      askedFor = key;
      var mine = ++asked;
      options.api("GET", "/faq-suggestions").then(function (answer) {
        if (mine !== asked) { return; }
        render(answer.ok ? answer.body.suggestions || [] : []);
      }, function () { if (mine === asked) { render([]); } });
    }

    proposeButton.addEventListener("click", function () {
      if (!chat) { return; }
      question.value = chat.lastVisitorBody || "";
      answer.value = chat.lastExpertBody || "";
      note.textContent = "";
      form.hidden = false;
      question.focus();
    });
    form.querySelector("[data-cancel]").addEventListener("click", function () { form.hidden = true; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chat) { return; }
      var body = { question: question.value.trim(), answer: answer.value.trim() };
      if (!body.question || !body.answer) { note.textContent = labels.labelFaqMissing; return; }
      options.api("POST", "/faq-proposals", body).then(function (reply) {
        if (reply.ok) {
          form.hidden = true;
          note.textContent = labels.labelFaqProposed;
        } else {
          var errors = (reply.body && reply.body.errors) || {};
          var first = Object.keys(errors).map(function (name) { return [].concat(errors[name])[0]; })[0];
          note.textContent = first || labels.labelFaqFailed;
        }
      }, function () { note.textContent = labels.labelFaqFailed; });
    });

    return { show: show };
  }

  window.MarketplaceFaqAssist = { create: create };
}());
