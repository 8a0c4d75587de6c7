// The chat on a brand's own pages. Brands paste
//   <script src="https://OUR-HOST/widget.js" data-key="pk_..." async></script>
// and this adds a launcher button; its first click opens the chat, a frame of ours (/widget/<key>, routing/door/views.py),
// in a panel that is full screen on phones. It runs among the brand's scripts and styles, so it sets one global
// (window.MarketplaceWidget), styles its elements inline with !important, and listens only to its own frame.
//
// Messages with the frame (postMessage, each side checking the other's origin):
//   frame -> page  {type: "marketplace:close"}            the frame's close button (or Escape)
//   frame -> page  {type: "marketplace:unread", count}    messages that came while the panel was closed
//   page -> frame  {type: "marketplace:panel", open}      the panel opened or closed: the frame counts unread
//                                                         messages only while closed, and takes focus on open
// Browsers that block third-party storage refuse the frame its localStorage, which would lose the visitor's token
// and conversation at each reload. There the frame keeps those two values on this page instead:
//   frame -> page  {type: "marketplace:store", name, value}   keep (or, value null, forget) one of them
//   page -> frame  the first "marketplace:panel" after each load also carries `storage: {name: value}`
(function () {
  "use strict";
  if (window.MarketplaceWidget) { return; }  // the snippet pasted twice

  var TOP = "2147483647";  // the highest z-index: above the brand's own sticky bars and pop-ups
  var GAP = 20;            // px between the launcher and the window's edges
  var SIZE = 60;           // px, the launcher's diameter (and at least 44 px to touch)
  var BRAND = "#1d4ed8";   // white on it: 6.7:1
  var LABELS = {
    en: { open: "Open the chat", close: "Close the chat", unread: "{count} unread", title: "Chat" },
    fr: { open: "Ouvrir le chat", close: "Fermer le chat", unread: "{count} non lu(s)", title: "Chat" }
  };
  var SVG = "http://www.w3.org/2000/svg";
  var STORED = ["marketplace.visitor.", "marketplace.conversation."];  // + key: what the frame may keep here

  var script = ownScript();
  var key = script && script.getAttribute("data-key");
  var origin = key && originOf(script.src);
  var launcher = null, badge = null, panel = null, frame = null, icons = null;
  var frameLoaded = false;
  var isOpen = false;
  var unread = 0;
  var phone = window.matchMedia ? window.matchMedia("(max-width: 479px)") : null;
  var labels = LABELS[String(document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase()]
    || LABELS.en;

  window.MarketplaceWidget = { open: open, close: close };
  if (!origin) { return; }  // no key, or a script address we cannot read: nothing to open

  // Our script tag: the running one, or (where currentScript is not set) the one loading widget.js.
  function ownScript() {
    if (document.currentScript && document.currentScript.getAttribute("data-key")) { return document.currentScript; }
    var candidates = Array.prototype.slice.call(document.querySelectorAll("script[data-key]"));
    return candidates.filter(function (node) { return /\/widget\.js(?:[?#]|$)/.test(node.src); })[0]
      || candidates.filter(function (node) { return /^pk_/.test(node.getAttribute("data-key")); })[0] || null;
  }

  function originOf(src) {
    try {
      var url = new URL(src, document.baseURI);
      return /^https?:$/.test(url.protocol) ? url.origin : null;
    } catch (error) {
      return null;
    }
  }

  function css(node, rules) {
    Object.keys(rules).forEach(function (name) { node.style.setProperty(name, rules[name], "important"); });
  }

  // Every element starts from the browser's defaults, whatever the page's style sheets say about buttons or iframes.
  function element(tag, rules) {
    var node = document.createElement(tag);
    css(node, { all: "initial" });
    css(node, { "box-sizing": "border-box" });
    css(node, rules);
    return node;
  }

  function icon(paths, stroked) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    css(svg, { display: "block", width: "28px", height: "28px", margin: "0", color: "#ffffff",
               fill: stroked ? "none" : "currentColor", stroke: stroked ? "currentColor" : "none",
               "stroke-width": "2.5", "stroke-linecap": "round", overflow: "visible" });
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      css(path, { fill: stroked ? "none" : "currentColor", stroke: stroked ? "currentColor" : "none" });
      svg.appendChild(path);
    });
    return svg;
  }

  function build() {
    launcher = element("button", {
      position: "fixed", right: GAP + "px", bottom: GAP + "px", "z-index": TOP, display: "flex",
      "align-items": "center", "justify-content": "center", width: SIZE + "px", height: SIZE + "px", margin: "0",
      padding: "0", "border-radius": "50%", border: "2px solid #ffffff", background: BRAND, color: "#ffffff",
      cursor: "pointer", "box-shadow": "0 4px 14px rgba(0, 0, 0, .3)", outline: "none", visibility: "visible",
      opacity: "1", transform: "none"
    });
    // Above the phone's home bar where there is one; browsers without env() keep the plain gap.
    launcher.style.setProperty("bottom", "calc(" + GAP + "px + env(safe-area-inset-bottom, 0px))", "important");
    launcher.type = "button";
    launcher.setAttribute("data-marketplace-launcher", "");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "marketplace-chat-panel");
    icons = {
      chat: icon(["M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2h-9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"], false),
      close: icon(["M6 6l12 12", "M18 6L6 18"], true)
    };
    badge = element("span", {
      position: "absolute", top: "-6px", right: "-6px", display: "none", "min-width": "24px", height: "24px",
      padding: "0 6px", "border-radius": "12px", border: "2px solid #ffffff", background: "#b3261e", color: "#ffffff",
      "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "font-size": "12px",
      "font-weight": "700", "line-height": "20px", "text-align": "center"
    });
    badge.setAttribute("aria-hidden", "true");  // the count is in the button's name
    launcher.appendChild(icons.chat);
    launcher.appendChild(icons.close);
    launcher.appendChild(badge);
    launcher.addEventListener("click", function () { if (isOpen) { close(); } else { open(); } });
    launcher.addEventListener("keydown", function (event) { if (event.key === "Escape" && isOpen) { close(); } });
    launcher.addEventListener("focus", function () { focusRing(visibleFocus(launcher)); });
    launcher.addEventListener("blur", function () { focusRing(false); });

    panel = element("div", {
      position: "fixed", "z-index": TOP, overflow: "hidden", background: "#ffffff",
      "box-shadow": "0 8px 30px rgba(0, 0, 0, .3)"
    });
    panel.id = "marketplace-chat-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", labels.title);

    document.body.appendChild(launcher);
    document.body.appendChild(panel);
    if (phone) {
      if (phone.addEventListener) { phone.addEventListener("change", layout); } else { phone.addListener(layout); }
    }
    window.addEventListener("message", fromFrame);
    layout();
    describe();
  }

  function visibleFocus(node) {
    try { return node.matches(":focus-visible"); } catch (error) { return true; }  // older browsers: always show it
  }

  // White then dark rings: visible on light and dark pages alike.
  function focusRing(on) {
    css(launcher, { "box-shadow": on ? "0 0 0 3px #ffffff, 0 0 0 6px #1b1f24" : "0 4px 14px rgba(0, 0, 0, .3)" });
  }

  function createFrame() {
    frame = element("iframe", {
      display: "block", width: "100%", height: "100%", margin: "0", padding: "0", border: "0", background: "#ffffff"
    });
    frame.id = "marketplace-chat-frame";
    frame.title = labels.title;
    frame.src = origin + "/widget/" + encodeURIComponent(key) + "?page=" + encodeURIComponent(window.location.href);
    frame.addEventListener("load", function () {
      frameLoaded = true;  // before, the frame is about:blank, of this page's origin: nothing to tell
      tellFrame(true);
    });
    panel.appendChild(frame);
  }

  function layout() {
    var full = !!(phone && phone.matches);
    if (full) {
      css(panel, { top: "0", right: "0", bottom: "0", left: "0", width: "auto", height: "auto", "max-width": "none",
                   "max-height": "none", "border-radius": "0", border: "0" });
    } else {
      css(panel, { top: "auto", left: "auto", right: GAP + "px", bottom: (GAP + SIZE + 16) + "px", width: "370px",
                   height: "600px", "max-width": "calc(100vw - " + 2 * GAP + "px)",
                   "max-height": "calc(100vh - " + (2 * GAP + SIZE + 16) + "px)", "border-radius": "12px",
                   border: "1px solid #d5dae0" });
    }
    css(panel, { display: isOpen ? "block" : "none" });
    // Full screen, the frame's own close button takes the launcher's place (which would hide its send button).
    css(launcher, { display: isOpen && full ? "none" : "flex" });
    css(icons.chat, { display: isOpen ? "none" : "block" });
    css(icons.close, { display: isOpen ? "block" : "none" });
  }

  function describe() {
    var name = isOpen ? labels.close : labels.open;
    if (!isOpen && unread > 0) { name += " (" + labels.unread.replace("{count}", String(unread)) + ")"; }
    launcher.setAttribute("aria-label", name);
    launcher.setAttribute("aria-expanded", isOpen ? "true" : "false");
    badge.textContent = unread > 9 ? "9+" : String(unread);
    css(badge, { display: !isOpen && unread > 0 ? "block" : "none" });
  }

  function tellFrame(withStorage) {
    if (!frameLoaded || !frame.contentWindow) { return; }
    var message = { type: "marketplace:panel", open: isOpen };
    if (withStorage === true) {
      message.storage = {};
      STORED.forEach(function (prefix) { message.storage[prefix + key] = stored(prefix + key); });
    }
    frame.contentWindow.postMessage(message, origin);
  }

  function stored(name) {
    try { return window.localStorage.getItem(name); } catch (error) { return null; }
  }

  function store(name, value) {
    if (STORED.map(function (prefix) { return prefix + key; }).indexOf(name) < 0) { return; }
    try {
      if (typeof value === "string") { window.localStorage.setItem(name, value); } else { window.localStorage.removeItem(name); }
    } catch (error) { /* this page has no storage either: the chat lasts as long as the page */ }
  }

  function fromFrame(event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || typeof data !== "object") { return; }
    if (data.type === "marketplace:close") {
      close();
    } else if (data.type === "marketplace:store") {
      store(data.name, data.value);
    } else if (data.type === "marketplace:unread") {
      var count = Math.floor(Number(data.count));
      unread = isOpen || !(count > 0) ? 0 : count;
      describe();
    }
  }

  function open() {
    if (!launcher || isOpen) { return; }
    if (!frame) { createFrame(); }
    isOpen = true;
    unread = 0;
    layout();
    describe();
    tellFrame();
    frame.focus();  // the frame then moves focus to its own first control (on "marketplace:panel")
  }

  function close() {
    if (!launcher || !isOpen) { return; }
    var hadFocus = document.activeElement === frame || panel.contains(document.activeElement);
    isOpen = false;
    layout();
    describe();
    tellFrame();
    if (hadFocus) { launcher.focus(); }  // not lost with the hidden panel
  }

  if (document.body) { build(); } else { document.addEventListener("DOMContentLoaded", build); }
})();
