// The brand's plan for one day: two charts drawn from the JSON the page carries (the table below them
// holds the same figures for readers without the chart library or a screen). Arrivals: the forecast as a
// line over what arrived as bars. Experts: needed (as a step line) against booked seats and experts online.
(function () {
  "use strict";
  var root = document.getElementById("plan");
  var source = document.getElementById("plan-data");
  if (!root || !source || typeof window.Chart === "undefined") { return; }
  var plan = JSON.parse(source.textContent);
  var text = root.dataset;
  var lang = document.documentElement.lang || undefined;
  var clock;
  try {
    clock = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit", timeZone: text.timezone });
  } catch (error) {
    clock = new Intl.DateTimeFormat(lang, { hour: "numeric", minute: "2-digit" });
  }
  function colour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }
  var brand = colour("--brand", "#1d4ed8");
  var ok = colour("--ok", "#15803d");
  var muted = colour("--muted", "#6b7280");
  var labels = plan.quarters.map(function (q) { return clock.format(new Date(q.start)); });
  function field(name) { return plan.quarters.map(function (q) { return q[name]; }); }
  function chart(name, datasets) {
    var canvas = root.querySelector("[data-chart=" + name + "]");
    if (!canvas) { return; }
    new window.Chart(canvas, {
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: true, position: "bottom" } },
        scales: {
          x: { ticks: { autoSkip: true, maxTicksLimit: 8, maxRotation: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }
  chart("arrivals", [
    { type: "line", label: text.labelForecast, data: field("forecast"), borderColor: brand,
      backgroundColor: brand, pointRadius: 0, borderWidth: 2 },
    { type: "bar", label: text.labelActual, data: field("actual"), backgroundColor: muted }
  ]);
  chart("experts", [
    { type: "line", label: text.labelRequired, data: field("planned"), borderColor: brand, backgroundColor: brand,
      pointRadius: 0, stepped: true, borderWidth: 2 },
    { type: "line", label: text.labelBooked, data: field("booked"), borderColor: muted, backgroundColor: muted,
      pointRadius: 0, stepped: true, borderDash: [4, 4] },
    { type: "line", label: text.labelOnline, data: field("online"), borderColor: ok, backgroundColor: ok,
      pointRadius: 0, stepped: true, spanGaps: false }
  ]);
}());
