// Canned answers in the expert's composer (the Chats page, inbox.js): "/" and a few letters list the brand's answers
// whose title or text match, titles first, accents ignored; arrows or a tap choose, Enter, Tab or a tap puts the
// answer's text in place of "/letters", Escape puts the list away until the next "/". A listbox of its own, kept apart
// so its matching can be tested without a page: loaded as a plain <script> before inbox.js, it defines
// window.MarketplaceCannedAnswers; under node (tests/js/) it is module.exports.
//
//   MarketplaceCannedAnswers.matches(answers, query) -> up to SHOWN of answers ({title, body}): the title starting
//                             with the query, then holding it, then the text holding it, each in the order given.
//   MarketplaceCannedAnswers.slashQuery(value, selectionStart, selectionEnd) -> {start, query} when the caret follows
//                             "/letters" at the start of the draft or after a space (start: where "/" is), else null.
//   var canned = MarketplaceCannedAnswers.create({
//     document: document, input: textarea, list: ul,  // the listbox, hidden while there is nothing to choose
//     answers: function () {},         // the open chat's brand's answers ([] if none), null when no chat is answered
//     firstLine: function (text) {},   // shown under each title
//     announce: function (count) {},   // read out how many are listed (0: none left of those shown)
//     inserted: function () {}         // after an answer went into the draft (fit its height, signal typing)
//   });
//   canned.suggest()   -> list what the draft's "/letters" match (after input, a click, a caret move)
//   canned.close()     -> put the list away
//   canned.key(event)  -> true when the open list took the key (arrows, Enter, Tab, Escape): it prevented its default
(function (factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    window.MarketplaceCannedAnswers = api;
  }
}(function () {
  "use strict";
  var SHOWN = 8;  // suggestions listed at once

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function slashQuery(value, selectionStart, selectionEnd) {
    if (selectionStart !== selectionEnd) { return null; }
    var before = value.slice(0, selectionStart);
    var match = /(^|\s)\/([^\s/]{0,40})$/.exec(before);
    return match ? { start: before.length - match[2].length - 1, query: match[2] } : null;
  }

  function matches(answers, query) {
    var needle = fold(query);
    var scored = [];
    answers.forEach(function (answer, index) {
      var title = fold(answer.title);
      var score = !needle ? 0 : title.indexOf(needle) === 0 ? 0 : title.indexOf(needle) > 0 ? 1
        : fold(answer.body).indexOf(needle) >= 0 ? 2 : -1;
      if (score >= 0) { scored.push({ answer: answer, score: score, index: index }); }
    });
    scored.sort(function (a, b) { return a.score - b.score || a.index - b.index; });
    return scored.slice(0, SHOWN).map(function (item) { return item.answer; });
  }

  function create(options) {
    var document = options.document;
    var input = options.input;
    var list = options.list;
    var canned = { items: [], active: -1, start: -1, dismissedAt: -1 };

    function query() { return slashQuery(input.value, input.selectionStart, input.selectionEnd); }

    function suggest() {
      var answers = options.answers();
      var found = answers ? query() : null;
      if (!found) { canned.dismissedAt = -1; }
      if (!found || found.start === canned.dismissedAt) { close(); return; }
      canned.dismissedAt = -1;
      if (!answers.length) { close(); return; }
      var items = matches(answers, found.query);
      var same = canned.start === found.start && items.length === canned.items.length &&
        items.every(function (item, i) { return item === canned.items[i]; });
      canned.start = found.start;
      if (same) { return; }
      var wasOpen = !list.hidden;
      canned.items = items;
      canned.active = items.length ? 0 : -1;
      list.replaceChildren.apply(list, items.map(function (answer, index) {
        var option = document.createElement("li");
        option.id = "canned-option-" + index;
        option.className = "canned__option";
        option.setAttribute("role", "option");
        option.setAttribute("data-testid", "canned-option");
        var title = document.createElement("span");
        title.className = "canned__title";
        title.textContent = answer.title;
        var body = document.createElement("span");
        body.className = "canned__body";
        body.textContent = options.firstLine(answer.body);
        option.appendChild(title);
        option.appendChild(body);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });  // the draft keeps focus
        option.addEventListener("click", function () { insert(answer); });
        return option;
      }));
      list.hidden = items.length === 0;
      highlight();
      if (items.length || wasOpen) { options.announce(items.length); }
    }

    function highlight() {
      Array.prototype.forEach.call(list.children, function (option, index) {
        option.setAttribute("aria-selected", String(index === canned.active));
      });
      var active = list.children[canned.active];
      if (active) {
        input.setAttribute("aria-activedescendant", active.id);
        if (active.scrollIntoView) { active.scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      canned.items = [];
      canned.active = -1;
      canned.start = -1;
      list.hidden = true;
      list.replaceChildren();
      input.removeAttribute("aria-activedescendant");
    }

    function insert(answer) {
      var found = query();
      var start = found ? found.start : input.selectionStart;
      input.setRangeText(answer.body, start, input.selectionEnd, "end");
      close();
      input.focus();
      options.inserted();
    }

    function key(event) {
      if (list.hidden || !canned.items.length) { return false; }
      var count = canned.items.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        canned.active = (canned.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
        highlight();
      } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        insert(canned.items[Math.max(0, canned.active)]);
      } else if (event.key === "Escape") {
        canned.dismissedAt = canned.start;
        close();
      } else {
        return false;
      }
      event.preventDefault();
      return true;
    }

    return { suggest: suggest, close: close, key: key };
  }

  return { SHOWN: SHOWN, fold: fold, slashQuery: slashQuery, matches: matches, create: create };
}));
