/* Audit console: a date preset and explicit dates exclude each other (no inline scripts: CSP).
   Picking a preset empties the dates; typing a date resets the preset. */
(function () {
  "use strict";
  function wire() {
    var form = document.getElementById("audit-filters");
    if (!form) return;
    var preset = form.querySelector("[data-audit-preset]");
    var dates = form.querySelectorAll("[data-audit-date]");
    if (!preset) return;
    preset.addEventListener("change", function () {
      if (preset.value) dates.forEach(function (input) { input.value = ""; });
    });
    dates.forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.value) preset.value = "";
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
