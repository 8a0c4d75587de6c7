// Files in a chat, shared by the visitor's widget (widget.js) and the expert's inbox (inbox.js); the calls are in
// routing/README.md ("Attachments"). Loaded as a plain <script> before them, it defines window.MarketplaceAttachments;
// under node (tests/js/) it is module.exports. Nothing but the `document` given is touched, so a test can hand it a
// small fake.
//
//   var render = MarketplaceAttachments.createRenderer({
//     document: document,
//     links: function (attachmentId) {},   // -> Promise of {url, thumbnail_url}: fresh links (they expire in minutes)
//     open: function (url, attachment) {}, // show or save the file (a new tab for a photo, a download for a PDF)
//     label: function (attachment) {}      // the link's words: "Open the photo lamp.jpg", "Download notice.pdf (1 MB)"
//   });
//   render(attachment) -> an element for a message's attachment ({id, kind, name, size, has_thumbnail, ...}):
//     a photo shows its thumbnail and opens the full image; a PDF is a link that downloads it. Each click asks for
//     fresh links first.
//   MarketplaceAttachments.formatSize(bytes, lang) -> "10 MB" ("10 Mo" in French)
//   MarketplaceAttachments.tooLarge(file, maxBytes) -> the file is over the limit the server told
//   MarketplaceAttachments.formData(file, clientId, caption) -> the multipart body of a send
(function (factory) {
  "use strict";
  if (typeof module === "object" && module && module.exports) {
    module.exports = factory();
  } else {
    window.MarketplaceAttachments = factory();
  }
}(function () {
  "use strict";

  var MEGABYTE = 1024 * 1024;

  function formatSize(bytes, lang) {
    var megabytes = bytes / MEGABYTE;
    try {
      return new Intl.NumberFormat(lang || undefined, { style: "unit", unit: "megabyte",
                                                        maximumFractionDigits: megabytes < 10 ? 1 : 0 })
        .format(megabytes);
    } catch (error) {
      return megabytes.toFixed(1) + " MB";
    }
  }

  function tooLarge(file, maxBytes) {
    return typeof maxBytes === "number" && maxBytes > 0 && !!file && file.size > maxBytes;
  }

  function formData(file, clientId, caption) {
    var data = new FormData();
    data.append("file", file, file.name);
    data.append("client_id", clientId);
    if (caption) { data.append("body", caption); }
    return data;
  }

  function createRenderer(options) {
    var doc = options.document;

    function fresh(attachment, then) {
      options.links(attachment.id).then(then, function () { /* the link stays as it was: a click asks again */ });
    }

    return function render(attachment) {
      var link = doc.createElement("a");
      link.className = "attachment attachment--" + attachment.kind;
      link.setAttribute("href", "#");
      link.setAttribute("data-testid", "attachment-" + attachment.kind);
      link.setAttribute("data-attachment-id", String(attachment.id));
      link.setAttribute("aria-label", options.label(attachment));
      if (attachment.kind === "image" && attachment.has_thumbnail) {
        var image = doc.createElement("img");
        image.className = "attachment__thumbnail";
        image.setAttribute("alt", attachment.name);
        if (attachment.width && attachment.height) {
          image.setAttribute("width", String(Math.min(attachment.width, 240)));
          image.setAttribute("height", String(Math.round(Math.min(attachment.width, 240) * attachment.height /
                                                         attachment.width)));
        }
        link.appendChild(image);
        fresh(attachment, function (links) { image.setAttribute("src", links.thumbnail_url || links.url); });
      } else {
        var name = doc.createElement("span");
        name.className = "attachment__name";
        name.textContent = options.label(attachment);
        link.appendChild(name);
      }
      link.addEventListener("click", function (event) {
        event.preventDefault();
        fresh(attachment, function (links) { options.open(links.url, attachment); });
      });
      return link;
    };
  }

  // How a page opens a file: a photo in a new tab, a PDF saved under its name.
  function openFile(doc, url, attachment) {
    var anchor = doc.createElement("a");
    anchor.setAttribute("href", url);
    if (attachment.kind === "image") {
      anchor.setAttribute("target", "_blank");
      anchor.setAttribute("rel", "noopener");
    } else {
      anchor.setAttribute("download", attachment.name);
    }
    doc.body.appendChild(anchor);
    anchor.click();
    doc.body.removeChild(anchor);
  }

  return { createRenderer: createRenderer, formatSize: formatSize, tooLarge: tooLarge, formData: formData,
           openFile: openFile };
}));
