// The error summary above a refused form: it takes the focus when the page opens (where `autofocus` did not),
// so a screen reader reads it first, and each of its links takes the focus to the field it names (the first
// choice of a group of checkboxes), with the field's label in view.
(function () {
  "use strict";

  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  var title = summary.querySelector("[data-error-summary-title]") || summary;
  if (!summary.contains(document.activeElement)) { title.focus(); }

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) { return; }
    var control = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
    if (!control) { return; }
    event.preventDefault();
    var field = target.closest(".field") || target;
    field.scrollIntoView({ block: "start" });
    control.focus({ preventScroll: true });
  });
})();
