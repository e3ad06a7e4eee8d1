// Selaras charts, loaded after Chart.js on the pages that have one.
// The Content-Security-Policy allows no inline script, so a page marks each chart with
// <canvas data-chart="KIND" data-source="ID"> and embeds the figures with
// {{ value|json_script:"ID" }}; translated words come in data-* attributes of the canvas.
(function () {
  "use strict";

  const BLUE = "#0b5394";

  // SLA page: met and breached per period as stacked bars, and the compliance rate as a
  // line on a 0–100 axis on the right. data: {labels, names, rates, met, breached}.
  function compliance(canvas, data) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: data.names[0], data: data.rates, yAxisID: "rate", borderColor: BLUE, backgroundColor: BLUE, tension: 0.2 },
          { label: data.names[1], data: data.met, backgroundColor: "#9fd3a8", stack: "n", yAxisID: "y" },
          { label: data.names[2], data: data.breached, backgroundColor: "#e58c8c", stack: "n", yAxisID: "y" },
        ],
      },
      options: {
        animation: false,
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, position: "left", title: { display: true, text: data.names[3] } },
          rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } },
        },
      },
    });
  }

  // Insights: win rate in percent per bucket. rows: [{bucket, won_rate}]. A bucket's label
  // is the canvas's data-label-BUCKET attribute when there is one, else the bucket itself.
  function winRate(canvas, rows) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map((r) => (canvas.getAttribute("data-label-" + r.bucket) ?? r.bucket).trim()),
        datasets: [
          {
            label: canvas.dataset.datasetLabel,
            data: rows.map((r) => (r.won_rate === null ? null : Math.round(r.won_rate * 1000) / 10)),
            backgroundColor: BLUE,
          },
        ],
      },
      options: { animation: false, scales: { y: { beginAtZero: true, max: 100 } }, plugins: { legend: { display: false } } },
    });
  }

  // Scorecards: per team, leads as bars and its rate (response SLA for Sales, acceptance
  // for Marketing) as a line. data: {labels, series: {team: {kind, leads, rate}}}.
  function trend(canvas, data) {
    const colours = [BLUE, "#c27c0e", "#2e7d32", "#8e24aa", "#d84315"];
    const words = canvas.dataset;
    const datasets = [];
    Object.entries(data.series).forEach(([team, series], i) => {
      const colour = colours[i % colours.length];
      datasets.push({ type: "bar", label: team + " · " + words.leadsLabel, data: series.leads, backgroundColor: colour + "55", yAxisID: "y" });
      const rateLabel = series.kind === "sales" ? words.salesRateLabel : words.marketingRateLabel;
      datasets.push({ type: "line", label: team + " · " + rateLabel, data: series.rate, borderColor: colour, yAxisID: "rate", tension: 0.2 });
    });
    return new Chart(canvas, {
      data: { labels: data.labels, datasets },
      options: {
        animation: false,
        scales: { y: { beginAtZero: true, position: "left" }, rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } },
      },
    });
  }

  // Insights: median hours waiting for a rep and then for the rep's first follow-up, stacked
  // per source (the last row, all sources, is labelled from data-all-label).
  // rows: [{label, routing_hours, rep_hours}].
  function delays(canvas, rows) {
    const words = canvas.dataset;
    const hours = (value) => (value === null ? null : Math.round(value * 10) / 10);
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map((r) => r.label ?? words.allLabel),
        datasets: [
          { label: words.routingLabel, data: rows.map((r) => hours(r.routing_hours)), backgroundColor: "#c27c0e", stack: "wait" },
          { label: words.repLabel, data: rows.map((r) => hours(r.rep_hours)), backgroundColor: BLUE, stack: "wait" },
        ],
      },
      options: { animation: false, indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: "h" } }, y: { stacked: true } } },
    });
  }

  // Capacity ahead: rep hours per month as bars, leads per rep-hour as a line on the right
  // axis; a month of warning has an amber bar, and its label says so in words (the data's
  // labels), so that colour is never the only sign. data: {labels, rep_hours, per_hour,
  // warning, names: [bars, line, left axis, right axis]}.
  function capacity(canvas, data) {
    const AMBER = "#c27c0e";
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: data.names[1], data: data.per_hour, yAxisID: "rate", borderColor: "#212529", backgroundColor: "#212529", tension: 0.2 },
          { label: data.names[0], data: data.rep_hours, yAxisID: "y", backgroundColor: data.warning.map((w) => (w ? AMBER : BLUE + "99")) },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          y: { beginAtZero: true, position: "left", title: { display: true, text: data.names[2] } },
          rate: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: data.names[3] } },
        },
      },
    });
  }

  // SLA form, what-if: per week the share of deadlines kept under the proposed terms and as
  // recorded (lines, right axis), and the breaches of each (bars). data: {labels, proposed,
  // current, breached, breached_now}; words in the canvas's data-*-label attributes.
  function preview(canvas, data) {
    const words = canvas.dataset;
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: words.proposedLabel, data: data.proposed, yAxisID: "rate", borderColor: BLUE, backgroundColor: BLUE, tension: 0.2 },
          { type: "line", label: words.currentLabel, data: data.current, yAxisID: "rate", borderColor: "#6c757d", backgroundColor: "#6c757d", borderDash: [6, 4], tension: 0.2 },
          { label: words.breachedLabel, data: data.breached, yAxisID: "y", backgroundColor: "#e58c8c" },
          { label: words.breachedNowLabel, data: data.breached_now, yAxisID: "y", backgroundColor: "#cfd4da" },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          y: { beginAtZero: true, position: "left", title: { display: true, text: words.countLabel } },
          rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } },
        },
      },
    });
  }

  const KINDS = { preview: preview, compliance: compliance, "win-rate": winRate, trend: trend, delays: delays, capacity: capacity };

  function draw(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const source = document.getElementById(canvas.dataset.source);
      KINDS[canvas.dataset.chart](canvas, JSON.parse(source.textContent));
    });
  }

  draw(document);
  // A chart that htmx swaps in (the SLA form's preview) is drawn when it arrives.
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt !== document.body) draw(event.detail.elt);
  });
})();
