/* Sales analysis charts: each <canvas data-analytics-chart="<id>"> draws the JSON of the
   <script type="application/json" id="<id>"> beside it (no inline scripts: CSP). */
(function () {
  "use strict";
  function draw() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-analytics-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-analytics-chart"));
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var options = { responsive: true, maintainAspectRatio: false };
      if (spec.pareto) {
        options.scales = {
          y: { beginAtZero: true },
          share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } },
        };
      }
      canvas.parentNode.style.minHeight = "260px";
      new window.Chart(canvas, { type: spec.type, data: spec.data, options: options });
    });
  }
  if (document.readyState === "complete") draw();
  else window.addEventListener("load", draw);
})();
