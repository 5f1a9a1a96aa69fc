/* The daily workspace's small behaviours. No inline scripts: the pages load this file. */
(function () {
  "use strict";

  // htmx keeps 4xx answers out of the page by default; a form that failed validation
  // answers 400 (or 422) with its errors under the fields, so those are swapped in.
  if (window.htmx) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "^(400|422)$", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }

  // After every deferred script (Chart.js is loaded, deferred, by the pages that draw).
  function ready(callback) {
    if (document.readyState === "complete") callback();
    else window.addEventListener("load", callback);
  }

  // The card's tabs: the clicked tab becomes the active one (the content comes by htmx).
  document.addEventListener("click", function (event) {
    var tab = event.target.closest(".nav-tabs[data-card-tabs] .nav-link");
    if (!tab) return;
    tab.closest(".nav-tabs").querySelectorAll(".nav-link").forEach(function (link) {
      link.classList.remove("active");
      link.removeAttribute("aria-current");
    });
    tab.classList.add("active");
    tab.setAttribute("aria-current", "page");
  });

  // Buttons and forms that need a confirmation: data-confirm="question". The question
  // comes only once the form is filled in: a form with a missing or wrong field (even one
  // marked novalidate, to keep the server's messages) shows the browser's own message
  // first and is not sent. The server checks everything again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (!question) return;
    if (typeof form.checkValidity === "function" && !form.checkValidity()) {
      event.preventDefault();
      form.reportValidity();
      return;
    }
    if (!window.confirm(question)) event.preventDefault();
  }, true);

  // Selects that submit their form on change (page size, saved views).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-autosubmit]");
    if (select && select.form) {
      if (window.htmx && select.form.hasAttribute("hx-post")) window.htmx.trigger(select.form, "submit");
      else select.form.requestSubmit();
    }
  });

  // Charts: a <canvas data-chart="id-of-json-script"> draws the JSON {type, labels, datasets}.
  function drawCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: spec.datasets.length > 1 || spec.type === "doughnut" } },
          scales: spec.type === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
      });
    });
  }
  ready(function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });

  // The stage board: drag a card to another column; the drop posts the move by htmx.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-board-card]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.boardCard);
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest("[data-board-column]")) event.preventDefault();
  });
  document.addEventListener("drop", function (event) {
    var column = event.target.closest("[data-board-column]");
    if (!dragged || !column) return;
    event.preventDefault();
    var form = dragged.querySelector("form[data-board-move]");
    if (form) {
      form.querySelector("[name=to_stage]").value = column.dataset.boardColumn;
      if (window.htmx) window.htmx.trigger(form, "submit");
      else form.requestSubmit();
    }
    dragged = null;
  });
})();
