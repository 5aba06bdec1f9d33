/* Draws the dashboard's and the public page's charts with the vendored ECharts.
 * Each chart is a <div data-chart="ID"> whose numbers sit in <script type="application/json" id="ID">
 * ({kind: "line"|"bar", x: [...], series: [{name, data}], percent, stack, horizontal}); the numbers are in the table
 * under the chart. No inline scripts; nothing is fetched. */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var charts = [];

  function option(spec) {
    var bar = spec.kind === "bar";
    var horizontal = bar && (spec.horizontal || spec.x.length > 6);
    var category = {type: "category", data: spec.x, axisLabel: {hideOverlap: true}};
    var value = {type: "value", minInterval: spec.percent ? 0 : 1,
                 max: spec.percent ? 100 : null,
                 axisLabel: {formatter: spec.percent ? "{value}%" : "{value}"}};
    if (!horizontal && !bar) { category.boundaryGap = false; }
    if (horizontal) { category.inverse = true; }
    return {
      animation: false,
      tooltip: {trigger: "axis"},
      legend: {type: "scroll", top: 0},
      grid: {left: horizontal ? 110 : 40, right: 16, top: 36, bottom: 28, containLabel: !horizontal},
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: spec.series.map(function (s) {
        return {name: s.name, type: bar ? "bar" : "line", data: s.data, connectNulls: false,
                showSymbol: spec.x.length <= 31, smooth: false, stack: spec.stack ? "all" : undefined};
      })
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    el.style.height = (parseInt(el.getAttribute("data-height"), 10) || 300) + "px";
    var chart = echarts.init(el, null, {renderer: "canvas"});
    chart.setOption(option(spec));
    el.setAttribute("data-drawn", "true");
    charts.push(chart);
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
