// The brand's live dashboard. The page arrives rendered; this script draws the three charts and keeps every
// figure current: each conversation change the brand's socket room announces (at most one fetch every 2 s),
// each reconnection, and every 30 s, it refetches the whole dashboard from the API and shows it again.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  var initial = document.getElementById("dashboard-data");
  if (!root || !initial) { return; }
  var MIN_GAP_MS = 2000;  // a burst of changes (offered, accepted, first reply) costs one fetch
  var PERIOD_MS = 30000;  // ratings, the day's roll-over and ops/finance readers (no brand room) get no event
  var NONE = "—";
  var lang = document.documentElement.lang || undefined;
  var text = root.dataset;
  var numbers = new Intl.NumberFormat(lang);
  var decimals = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  var percents = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  var money = moneyFormat(text.currency);
  var clock = MarketplaceClock.timeFormat(lang, text.timezone);
  var charts = {};
  var lastFetch = Date.now();  // the page itself is a fresh fetch
  var timer = null;
  var inFlight = false;
  var again = false;

  function moneyFormat(currency) {
    try {
      var format = new Intl.NumberFormat(lang, { style: "currency", currency: currency });
      var scale = Math.pow(10, format.resolvedOptions().maximumFractionDigits);
      return function (cents) { return format.format(cents / scale); };
    } catch (error) {
      return function (cents) { return numbers.format(cents / 100) + " " + currency; };
    }
  }

  // Fill a translated sentence's {names}.
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function share(value) { return value === null || value === undefined ? NONE : percents.format(value); }

  function setFigure(name, value) {
    var node = root.querySelector("[data-figure=" + name + "]");
    if (node) { node.textContent = value; }
    return node;
  }

  function amount(name, value) { return name === "monthly_budget_cents" ? money(value) : numbers.format(value); }

  function renderCaps(caps) {
    caps.forEach(function (use) {
      var item = root.querySelector("[data-cap=" + use.name + "]");
      if (!item) { return; }
      var bar = item.querySelector("progress");
      item.querySelector("[data-cap-text]").textContent = use.cap === null
        ? amount(use.name, use.used) + " · " + text.textNoCap
        : fill(text.textOf, { used: amount(use.name, use.used), cap: amount(use.name, use.cap) });
      bar.hidden = use.cap === null;
      bar.value = use.share === null ? 0 : Math.round(Math.min(use.share, 1) * 100);
      item.querySelector("[data-cap-reached]").hidden = use.share === null || use.share < 1;
    });
  }

  function renderRefusals(refusals) {
    Object.keys(refusals).forEach(function (reason) {
      var node = root.querySelector("[data-reason=" + reason + "]");
      if (node) { node.textContent = numbers.format(refusals[reason]); }
    });
  }

  function begun(intervals) { return intervals.filter(function (interval) { return interval.arrivals !== null; }); }

  function peak(intervals, field) {
    return intervals.reduce(function (most, interval) { return Math.max(most, interval[field] || 0); }, 0);
  }

  function total(intervals, field) {
    return intervals.reduce(function (sum, interval) { return sum + (interval[field] || 0); }, 0);
  }

  function renderTable(intervals) {
    var body = root.querySelector("[data-interval-rows]");
    var rows = document.createDocumentFragment();
    intervals.forEach(function (interval) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      var time = document.createElement("time");
      th.scope = "row";
      time.dateTime = interval.start;
      time.textContent = clock.format(new Date(interval.start));
      th.appendChild(time);
      tr.appendChild(th);
      [interval.arrivals, interval.answered_within_target, interval.experts_online].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = numbers.format(value);
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
  }

  // Each chart: its series, and the sentence that tells a screen reader what the drawing shows.
  var SERIES = {
    arrivals: { field: "arrivals", summary: function (done) {
      return fill(text.textArrivalsSummary, { total: numbers.format(total(done, "arrivals")),
                                              peak: numbers.format(peak(done, "arrivals")) });
    } },
    answered: { field: "answered_within_target", summary: function (done) {
      return fill(text.textAnsweredSummary, { total: numbers.format(total(done, "answered_within_target")),
                                              peak: numbers.format(peak(done, "answered_within_target")) });
    } },
    online: { field: "experts_online", summary: function (done) {
      return fill(text.textOnlineSummary, { peak: numbers.format(peak(done, "experts_online")) });
    } }
  };

  function colour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function makeChart(canvas, name) {
    var line = name === "online";
    var ink = colour(name === "answered" ? "--ok" : "--brand", "#1d4ed8");
    return new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: { labels: [], datasets: [{
        label: text["label" + name.charAt(0).toUpperCase() + name.slice(1)], data: [],
        backgroundColor: ink, borderColor: ink, pointRadius: 0, stepped: line, spanGaps: false
      }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { ticks: { autoSkip: true, maxTicksLimit: 8, maxRotation: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  }

  function renderCharts(intervals) {
    var labels = intervals.map(function (interval) { return clock.format(new Date(interval.start)); });
    var done = begun(intervals);
    Object.keys(SERIES).forEach(function (name) {
      var canvas = root.querySelector("[data-chart=" + name + "]");
      if (!canvas) { return; }
      canvas.setAttribute("aria-label", SERIES[name].summary(done));
      if (typeof window.Chart === "undefined") { return; }  // the library did not load: the table stays
      if (!charts[name]) { charts[name] = makeChart(canvas, name); }
      var chart = charts[name];
      chart.data.labels = labels;
      chart.data.datasets[0].data = intervals.map(function (interval) { return interval[SERIES[name].field]; });
      chart.update("none");
    });
  }

  function renderBot(bot) {
    var section = root.querySelector("[data-bot]");
    if (!section || !bot) { return; }  // a brand whose bot began today shows it from the next page load
    var said = section.dataset;
    setFigure("bot_involvement", share(bot.involvement_share));
    setFigure("bot_involvement_detail", fill(said.textInvolved, {
      involved: numbers.format(bot.involved), conversations: numbers.format(bot.conversations)
    }));
    setFigure("bot_resolution", share(bot.resolution_share));
    setFigure("bot_resolution_detail", fill(said.textResolved, {
      confirmed: numbers.format(bot.resolved_confirmed), unconfirmed: numbers.format(bot.resolved_unconfirmed)
    }));
    setFigure("bot_handed_over", numbers.format(bot.handed_over));
    setFigure("bot_with_bot_now", numbers.format(bot.with_bot_now));
    Object.keys(bot.handovers).forEach(function (reason) {
      var node = section.querySelector("[data-handover=" + reason + "]");
      if (node) { node.textContent = numbers.format(bot.handovers[reason]); }
    });
    var rows = document.createDocumentFragment();
    bot.failing_entries.forEach(function (entry) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = entry.ref;
      tr.appendChild(th);
      [entry.question, numbers.format(entry.failures), percents.format(entry.share)].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    if (!bot.failing_entries.length) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 4;
      cell.textContent = said.textNoFailing;
      empty.appendChild(cell);
      rows.appendChild(empty);
    }
    section.querySelector("[data-failing-rows]").replaceChildren(rows);
  }

  function render(data) {
    ["waiting", "active", "experts_online", "arrivals", "missed", "refused"].forEach(function (name) {
      setFigure(name, numbers.format(data[name]));
    });
    var level = data.service_level;
    setFigure("service_level", share(level.share));
    setFigure("service_level_detail", fill(text.textLevel, {
      within: numbers.format(level.within), decided: numbers.format(level.decided),
      seconds: numbers.format(level.target_seconds), target: percents.format(level.target_percent / 100)
    }));
    var state = setFigure("service_level_state", level.met === null ? "" : level.met ? text.textMet : text.textNotMet);
    if (state) { state.dataset.met = level.met === null ? "none" : String(level.met); }
    setFigure("abandonment", share(data.abandonment_share));
    setFigure("abandonment_detail", fill(text.textAbandoned, {
      abandoned: numbers.format(data.abandoned), arrivals: numbers.format(data.arrivals)
    }));
    setFigure("rating", data.rating.average === null ? NONE : decimals.format(data.rating.average));
    setFigure("rating_detail", fill(text.textRatings, { count: numbers.format(data.rating.count) }));
    var asOf = root.querySelector("[data-as-of]");
    if (asOf) {
      asOf.dateTime = data.as_of;
      asOf.textContent = clock.format(new Date(data.as_of));
    }
    setFigure("channel_fees_cents", money(data.channel_fees_cents));
    setFigure("channel_messages_held", numbers.format(data.channel_messages_held));
    renderCaps(data.caps);
    renderRefusals(data.refusals);
    renderBot(data.bot);
    renderTable(begun(data.intervals));
    renderCharts(data.intervals);
  }

  function refresh() {
    timer = null;
    if (inFlight) { again = true; return; }
    inFlight = true;
    lastFetch = Date.now();
    fetch(text.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("the dashboard answered " + response.status); }
        return response.json();
      })
      .then(render)
      .catch(function () { /* keep what is shown: the next change or the next period fetches again */ })
      .then(function () {
        inFlight = false;
        if (again) { again = false; refreshSoon(); }
      });
  }

  function refreshSoon() {
    if (timer !== null) { return; }
    timer = setTimeout(refresh, Math.max(0, lastFetch + MIN_GAP_MS - Date.now()));
  }

  try {
    render(JSON.parse(initial.textContent));
  } catch (error) { /* the server-rendered figures and table stay */ }

  setInterval(function () { if (!document.hidden) { refreshSoon(); } }, PERIOD_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refreshSoon(); } });
  var socket = window.marketplaceSocket;
  if (socket) {
    socket.on("live_conversation", refreshSoon);
    socket.on("channel_message_held", refreshSoon);  // a messaging app's reply held by the monthly budget
    socket.on("connect", refreshSoon);  // events missed while disconnected are not replayed
  }
})();
