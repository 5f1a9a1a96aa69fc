// The service report's satisfaction chart (complaints closed, and survey answers), drawn
// from the canvas's data attributes: no inline script under the strict CSP.
(function () {
  "use strict";
  var canvas = document.getElementById("csat-chart");
  if (!canvas || typeof Chart === "undefined") {
    return;
  }
  function numbers(text) {
    return (text || "").split(",").filter(Boolean).map(Number);
  }
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: ["1", "2", "3", "4", "5"],
      datasets: [
        {label: canvas.dataset.label, data: numbers(canvas.dataset.values)},
        {label: canvas.dataset.surveyLabel, data: numbers(canvas.dataset.surveyValues)},
      ],
    },
  });
})();

// Volume by category over the period.
(function () {
  "use strict";
  var canvas = document.getElementById("volume-chart");
  if (!canvas || typeof Chart === "undefined") {
    return;
  }
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: (canvas.dataset.labels || "").split("|").filter(Boolean),
      datasets: [
        {
          label: canvas.dataset.label,
          data: (canvas.dataset.values || "").split(",").filter(Boolean).map(Number),
        },
      ],
    },
  });
})();
