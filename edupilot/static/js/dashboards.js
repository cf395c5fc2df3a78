/* Dashboards: draw each chart from the JSON its table's numbers were written to.
 * The page is complete without this file (every number is in the table after the chart); the
 * charts stay hidden when JavaScript or ECharts (served from /static/vendor/, no CDN) is off.
 * No inline script: the data comes from <script type="application/json"> (json_script). */
(function () {
  "use strict";
  var PALETTE = ["#1f5fa8", "#e08a00", "#2e8b57", "#b03a2e", "#6b4fa0", "#5b6770"];

  function options(spec) {
    var unit = spec.percent ? "%" : "";
    var categoryAxis = {
      type: "category",
      data: spec.categories,
      inverse: spec.horizontal,  // the first row of the table on top
      axisLabel: { interval: 0, rotate: spec.horizontal ? 0 : (spec.categories.length > 6 ? 30 : 0) },
    };
    var valueAxis = { type: "value", minInterval: 1, axisLabel: { formatter: "{value}" + unit } };
    if (spec.percent) { valueAxis.max = 100; }
    return {
      color: PALETTE,
      aria: { enabled: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? valueAxis : categoryAxis,
      yAxis: spec.horizontal ? categoryAxis : valueAxis,
      series: spec.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          stack: spec.stack ? "total" : undefined,
          data: s.data,
          label: { show: !spec.stack && spec.categories.length <= 12, position: spec.horizontal ? "right" : "top" },
        };
      }),
    };
  }

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      el.hidden = false;
      if (spec.horizontal) { el.style.height = Math.max(200, 40 * spec.categories.length + 60) + "px"; }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(options(spec));
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
