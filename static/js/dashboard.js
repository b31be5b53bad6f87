/* Leader's overview charts. Reads the page's {{ chart_data|json_script:"dashboard-data" }}
   and draws it with ECharts (static/vendor/echarts/, installed by `make venv`, no CDN).
   No inline script, no eval, no network requests: everything comes from the page. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  var echarts = window.echarts;
  if (!source || !echarts) { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }
  if (!data || typeof data !== "object") { return; }

  var zh = (document.documentElement.lang || "zh-hans").toLowerCase().indexOf("zh") === 0;
  var fallback = zh
    ? { empty: "暂无历史数据", no_data: "暂无数据", percent_axis: "%" }
    : { empty: "No history yet", no_data: "No data", percent_axis: "%" };
  var labels = data.labels || {};
  function label(key) {
    var value = labels[key];
    return typeof value === "string" && value ? value : (fallback[key] || key);
  }

  var reduceMotion = !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  var fontFamily = window.getComputedStyle(document.body).fontFamily || "sans-serif";
  var esc = echarts.format.encodeHTML;
  var ink = "#1f2933", muted = "#616e7c", line = "#d9e2ec";
  var statusColors = {
    not_started: "#9aa5b1", // grey
    in_progress: "#2563eb", // blue
    done: "#0b6e4f",        // green (the site's brand colour)
    closed: "#064e3b",      // dark green: closed out (销号)
    lagging: "#c2261b",     // red
    on_hold: "#52606d"      // slate
  };
  var indicatorColors = { met: "#0b6e4f", missed: "#c2261b", unreported: "#9aa5b1" };
  var percent = label("percent_axis");

  function number(value) {
    var n = Number(value);
    return isFinite(n) ? n : 0;
  }
  function fmtPercent(value) {
    return number(value).toFixed(1).replace(/\.0$/, "") + percent;
  }

  function base(title) {
    return {
      animation: !reduceMotion,
      textStyle: { fontFamily: fontFamily, color: ink },
      title: { text: title, left: 8, top: 6, textStyle: { fontSize: 15, fontWeight: 600, color: ink } },
      tooltip: { confine: true }
    };
  }

  function emptyState(title, text) {
    var option = base(title);
    option.tooltip = { show: false };
    option.graphic = [{
      type: "text", left: "center", top: "middle", silent: true,
      style: { text: text, fill: muted, fontSize: 14, fontFamily: fontFamily }
    }];
    return option;
  }

  function pie(title, name, items) {
    var total = items.reduce(function (sum, item) { return sum + item.value; }, 0);
    if (!total) { return emptyState(title, label("no_data")); }
    var option = base(title);
    option.tooltip.trigger = "item";
    option.tooltip.formatter = function (p) {
      return esc(p.name) + ": <b>" + p.value + "</b> (" + fmtPercent(p.percent) + ")";
    };
    option.legend = { bottom: 4, left: "center", icon: "circle", textStyle: { color: ink } };
    option.series = [{
      name: name,
      type: "pie",
      radius: ["42%", "66%"],
      center: ["50%", "52%"],
      stillShowZeroSum: false,
      avoidLabelOverlap: true,
      itemStyle: { borderColor: "#fff", borderWidth: 2 },
      label: { formatter: "{b}: {c}", color: ink },
      data: items.filter(function (item) { return item.value > 0; })
    }];
    // Narrow box (phone): "名称: 3" no longer fits beside the ring; the legend names the slices.
    // The entry without a query is the default ECharts returns to when the box widens again.
    return {
      baseOption: option,
      media: [
        { query: { maxWidth: 460 }, option: { series: [{ label: { formatter: "{c}" } }] } },
        { option: { series: [{ label: { formatter: "{b}: {c}" } }] } }
      ]
    };
  }

  function statusOption() {
    var items = (Array.isArray(data.status) ? data.status : []).map(function (row) {
      return {
        name: String(row.name), value: number(row.value),
        itemStyle: { color: statusColors[row.key] || muted }
      };
    });
    return pie(label("status"), label("tasks"), items);
  }

  function indicatorsOption() {
    var counts = data.indicators || {};
    var items = ["met", "missed", "unreported"].map(function (key) {
      return { name: label(key), value: number(counts[key]), itemStyle: { color: indicatorColors[key] } };
    });
    return pie(label("indicators"), label("indicators"), items);
  }

  // Highest mean progress first; a click on a bar opens that agency's task list.
  var agencies = (Array.isArray(data.agencies) ? data.agencies : []).slice().sort(function (a, b) {
    return number(b.mean_percent) - number(a.mean_percent) || String(a.name).localeCompare(String(b.name));
  });

  function agenciesOption() {
    if (!agencies.length) { return emptyState(label("agencies"), label("no_data")); }
    var option = base(label("agencies"));
    option.tooltip.trigger = "axis";
    option.tooltip.axisPointer = { type: "shadow" };
    option.tooltip.formatter = function (params) {
      var row = agencies[params[0].dataIndex];
      return "<b>" + esc(String(row.name)) + "</b><br>" +
        esc(label("mean_percent")) + ": " + fmtPercent(row.mean_percent) + "<br>" +
        esc(label("done")) + " / " + esc(label("tasks")) + ": " + number(row.done) + " / " + number(row.tasks);
    };
    option.grid = { left: 8, right: 48, top: 40, bottom: 16, outerBounds: { left: 10, right: 10, top: 0, bottom: 10 } };
    option.xAxis = {
      type: "value", min: 0, max: 100,
      axisLabel: { formatter: "{value}" + percent, color: muted },
      splitLine: { lineStyle: { color: line } }
    };
    option.yAxis = {
      type: "category", inverse: true,
      data: agencies.map(function (row) { return String(row.name); }),
      axisTick: { show: false },
      triggerEvent: true,
      axisLabel: { color: ink, width: 120, overflow: "truncate" }
    };
    option.series = [{
      name: label("mean_percent"),
      type: "bar",
      barMaxWidth: 22,
      itemStyle: { color: statusColors.in_progress, borderRadius: [0, 3, 3, 0] },
      label: { show: true, position: "right", color: ink, formatter: function (p) { return fmtPercent(p.value); } },
      data: agencies.map(function (row) { return number(row.mean_percent); })
    }];
    return option;
  }

  function trendOption() {
    var trend = data.trend || {};
    var days = Array.isArray(trend.days) ? trend.days : [];
    if (!days.length) { return emptyState(label("trend"), label("empty")); }
    var option = base(label("trend"));
    option.tooltip.trigger = "axis";
    option.tooltip.valueFormatter = function (value) { return fmtPercent(value); };
    option.legend = { top: 8, right: 8, textStyle: { color: ink } };
    option.grid = { left: 8, right: 20, top: 44, bottom: 16, outerBounds: { left: 10, right: 14, top: 0, bottom: 10 } };
    option.xAxis = { type: "category", boundaryGap: false, data: days, axisLabel: { color: muted } };
    option.yAxis = {
      type: "value", min: 0, max: 100,
      axisLabel: { formatter: "{value}" + percent, color: muted },
      splitLine: { lineStyle: { color: line } }
    };
    function serie(key, color) {
      var values = Array.isArray(trend[key]) ? trend[key] : [];
      return {
        name: label(key), type: "line", smooth: false, showSymbol: days.length <= 31,
        lineStyle: { width: 2, color: color }, itemStyle: { color: color },
        data: values.map(function (v) { return v === null || v === undefined ? null : number(v); })
      };
    }
    // Both series are percentages (0–100): mean progress and the share of tasks done.
    option.series = [serie("mean_percent", statusColors.in_progress), serie("done_share", statusColors.done)];
    return option;
  }

  var charts = [];
  function draw(id, build, setup) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(build());
    if (setup) { setup(chart, el); }
    charts.push(chart);
  }

  draw("chart-status", statusOption);
  draw("chart-agencies", agenciesOption, function (chart, el) {
    // Many agencies: give each bar room instead of squeezing them into the fixed height.
    var wanted = agencies.length * 26 + 60;
    if (wanted > el.clientHeight) { el.style.height = wanted + "px"; chart.resize(); }
    function open(index) {
      var row = agencies[index];
      // Only same-site paths ("/tasks/mine/?owner=3"), never another origin or a javascript: URL.
      if (row && typeof row.url === "string" && /^\/(?![\/\\])/.test(row.url)) {
        window.location.assign(row.url);
      }
    }
    // Anywhere on an agency's row opens it (a 0% bar is too small to hit), and so does its name.
    chart.getZr().on("click", function (event) {
      var point = [event.offsetX, event.offsetY];
      if (!chart.containPixel({ gridIndex: 0 }, point)) { return; }
      var index = Math.round(chart.convertFromPixel({ gridIndex: 0 }, point)[1]);
      if (index >= 0 && index < agencies.length) { open(index); }
    });
    chart.getZr().on("mousemove", function (event) {
      if (chart.containPixel({ gridIndex: 0 }, [event.offsetX, event.offsetY])) { chart.getZr().setCursorStyle("pointer"); }
    });
    chart.on("click", "yAxis", function (params) {
      for (var i = 0; i < agencies.length; i += 1) {
        if (String(agencies[i].name) === params.value) { open(i); return; }
      }
    });
  });
  draw("chart-trend", trendOption);
  draw("chart-indicators", indicatorsOption);

  var pending = false;
  function resizeAll() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      charts.forEach(function (chart) { if (!chart.isDisposed()) { chart.resize(); } });
    });
  }
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  window.addEventListener("afterprint", resizeAll);
  if (window.ResizeObserver) {
    var observer = new window.ResizeObserver(resizeAll);
    charts.forEach(function (chart) { observer.observe(chart.getDom()); });
  }
})();
