// Times as the server sends them, and clock times on the brand's clock: one place for the pages' scripts. Loaded as
// a plain <script> before the scripts that use it (base.html, the widget's frame), it defines window.MarketplaceClock;
// under node (tests/js/, and chat_log.js there) it is module.exports.
//
//   MarketplaceClock.parseTime(text)      -> epoch ms, or NaN for no text. The server's times without a zone are UTC.
//   MarketplaceClock.timeFormat(lang, zone) -> an Intl.DateTimeFormat of hours and minutes in that IANA zone (the
//                                          brand's); in the reader's own zone when this browser does not know it.
(function (factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    window.MarketplaceClock = api;
  }
}(function () {
  "use strict";

  function parseTime(text) {
    if (!text || typeof text !== "string") { return NaN; }
    return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : text + "Z");
  }

  function timeFormat(lang, zone) {
    try {
      return new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit", timeZone: zone });
    } catch (error) {  // a time zone this browser does not know: the reader's own clock
      return new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
    }
  }

  return { parseTime: parseTime, timeFormat: timeFormat };
}));
