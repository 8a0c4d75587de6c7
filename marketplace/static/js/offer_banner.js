// On any expert page but the chats themselves, an offer that arrives shows a banner leading to the chats,
// so an expert looking at their shifts does not miss it while its countdown runs.
(function () {
  "use strict";
  var link = document.querySelector("[data-offer-link]");
  if (!link || !window.marketplaceSocket || document.getElementById("inbox-data")) { return; }
  var banner = null;

  window.marketplaceSocket.on("offer", function (offer) {
    if (!banner) {
      banner = document.createElement("a");
      banner.className = "offer-banner";
      banner.setAttribute("role", "alert");
      banner.setAttribute("data-testid", "offer-banner");
      banner.href = link.href;
      document.body.appendChild(banner);
    }
    banner.textContent = link.dataset.labelOffer + (offer.brand ? " (" + offer.brand.name + ")" : "");
    clearTimeout(banner.hideTimer);
    banner.hideTimer = setTimeout(function () {
      if (banner) { banner.remove(); banner = null; }
    }, (offer.timeout_seconds || 30) * 1000);
  });
})();
