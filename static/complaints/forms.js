// Bootstrap classes on the controls Django renders bare, inside any element marked
// data-controls ("sm": the small size). A static file: the CSP allows no inline script.
(function () {
  "use strict";
  document.querySelectorAll("[data-controls]").forEach(function (scope) {
    var small = scope.dataset.controls === "sm";
    scope
      .querySelectorAll(
        "select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
      )
      .forEach(function (el) {
        var select = el.tagName === "SELECT";
        el.classList.add(select ? "form-select" : "form-control");
        if (small) {
          el.classList.add(select ? "form-select-sm" : "form-control-sm");
        }
      });
  });
})();
