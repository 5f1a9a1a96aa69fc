/* The customer list's bulk selection: "select all on this page" ticks every row's box and
   the bar says how many are ticked. No inline scripts (strict CSP): list.html loads this. */
(function () {
  "use strict";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-bulk-row]"));
  }

  function refresh() {
    var ticked = boxes().filter(function (box) { return box.checked; }).length;
    var counter = document.querySelector("[data-bulk-count]");
    if (counter) counter.textContent = String(ticked);
    var all = document.querySelector("input[data-bulk-all]");
    if (all) {
      all.checked = ticked > 0 && ticked === boxes().length;
      all.indeterminate = ticked > 0 && ticked < boxes().length;
    }
    document.querySelectorAll("[data-bulk-submit]").forEach(function (button) {
      button.disabled = ticked === 0;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-bulk-all]")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
      refresh();
    } else if (target.matches("input[data-bulk-row]")) {
      refresh();
    }
  });
  // New rows come by htmx (filters, paging): a new page starts with nothing ticked.
  document.addEventListener("htmx:afterSettle", refresh);
  document.addEventListener("DOMContentLoaded", refresh);
})();
