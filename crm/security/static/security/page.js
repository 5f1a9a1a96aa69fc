// Behaviour that used to be inline script or on* attributes, which the
// Content-Security-Policy forbids: pages declare it with data- attributes instead.
(function () {
  "use strict";
  function wire(root) {
    // <select data-submit-on-change>: submit the form when the choice changes.
    root.querySelectorAll("[data-submit-on-change]").forEach(function (el) {
      if (el.dataset.wired) return;
      el.dataset.wired = "1";
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); });
})();
