// The Chats page's conversation as a screen (inbox.js): on a phone an open chat fills the screen below the site's bar,
// and what the on-screen keyboard covers is taken off (the visual viewport), so the composer stays in view and the page
// itself does not scroll; the log stays at its end when its box shrinks (keyboard, longer draft), and the draft grows
// with what is written. Kept apart because it is about the viewport, not about chats. Loaded as a plain <script>
// before inbox.js, it defines window.MarketplaceChatScreen.
//
//   var screen = MarketplaceChatScreen.create({
//     log: element, input: textarea,   // the conversation's messages and its composer's draft
//     open: function () {}             // whether a chat is shown
//   });
//   screen.layout()       -> size the page for what is shown (after a chat opens or closes)
//   screen.fitInput()     -> the draft's height to what is written, up to the height CSS allows
//   screen.nearBottom(), screen.scrollToEnd() -> the log is (put) at its end
//   screen.watch()        -> follow the viewport, the phone's width and the log's size from now on
(function () {
  "use strict";

  function create(options) {
    var log = options.log;
    var input = options.input;
    var phone = window.matchMedia ? window.matchMedia("(max-width: 719.98px)") : null;
    var stickToEnd = true;  // the log was at its end: it stays there when its box shrinks (keyboard, longer draft)

    function nearBottom() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }

    function scrollToEnd() { log.scrollTop = log.scrollHeight; }

    function layout() {
      var full = options.open() && !!phone && phone.matches;
      var html = document.documentElement;
      var viewport = window.visualViewport;
      html.classList.toggle("chat-screen", full);
      html.classList.toggle("chat-screen--measured", full && !!viewport);
      if (full && viewport) {
        html.style.setProperty("--chat-viewport-height", Math.round(viewport.height) + "px");
        html.style.setProperty("--chat-viewport-top", Math.round(viewport.offsetTop) + "px");
      } else {
        html.style.removeProperty("--chat-viewport-height");
        html.style.removeProperty("--chat-viewport-top");
      }
    }

    function relayout() {
      layout();
      if (stickToEnd) { scrollToEnd(); }
    }

    function fitInput() {
      var atEnd = nearBottom();
      input.style.height = "";
      if (input.value) { input.style.height = input.scrollHeight + 2 + "px"; }  // the hint does not count
      if (atEnd) { scrollToEnd(); }
    }

    function watch() {
      log.addEventListener("scroll", function () { stickToEnd = nearBottom(); }, { passive: true });
      if (window.ResizeObserver) {
        new window.ResizeObserver(function () { if (stickToEnd) { scrollToEnd(); } }).observe(log);
      }
      if (window.visualViewport) {
        window.visualViewport.addEventListener("resize", relayout);
        window.visualViewport.addEventListener("scroll", relayout);
      }
      if (phone) {
        if (phone.addEventListener) { phone.addEventListener("change", relayout); } else { phone.addListener(relayout); }
      }
    }

    return { layout: layout, fitInput: fitInput, nearBottom: nearBottom, scrollToEnd: scrollToEnd, watch: watch };
  }

  window.MarketplaceChatScreen = { create: create };
}());
