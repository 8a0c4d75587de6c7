// Copy buttons: put the text of the field a button names on the clipboard. Where the page may not use the
// clipboard (plain http, an old browser, a refused permission) the text is selected for the person to copy.
(function () {
  "use strict";

  function attach(button) {
    var field = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!field) { return; }

    function say(text) { if (status) { status.textContent = text || ""; } }

    function selectText() {
      field.focus();
      field.select();
      var copied;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      say(copied ? button.dataset.labelCopied : button.dataset.labelSelected);
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      say("");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { say(button.dataset.labelCopied); }, selectText);
      } else {
        selectText();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), attach);
})();
