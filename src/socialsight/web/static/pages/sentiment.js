"use strict";
(() => {
  const d = SS.data();
  const COLORS = { POSITIVE: "#16a34a", NEGATIVE: "#dc2626", NEUTRAL: "#94a3b8", MIXED: "#f59e0b" };
  const names = d.split.map((r) => r.sentiment);
  const label = (s) => s.charAt(0) + s.slice(1).toLowerCase();
  const short = (text) => (text.length > 32 ? text.slice(0, 31) + "…" : text);
  // Counts are whole: no 0.5 ticks on a short axis.
  const whole = (values) => (Math.max(...values) <= 6 ? { dtick: 1 } : {});

  // Stacked bars over time, one series per sentiment, in a fixed order and colour.
  const traces = names.map((s) => {
    const mine = d.over_time.filter((r) => r.sentiment === s);
    return { type: "bar", name: label(s), x: mine.map((r) => r.t), y: mine.map((r) => r.posts),
      marker: { color: COLORS[s] || "#6b7280" } };
  }).filter((t) => t.x.length);
  SS.plot("sentiment-over-time", traces, {
    barmode: "stack", height: 300, xaxis: { type: "date" },
    yaxis: whole(d.over_time.map((r) => r.posts)),
    legend: { orientation: "h", y: -0.25, traceorder: "normal" },
  });

  const split = d.split.filter((r) => r.posts > 0);
  SS.plot("sentiment-split", [{
    type: "pie", hole: 0.45, sort: false, direction: "clockwise",
    labels: split.map((r) => label(r.sentiment)), values: split.map((r) => r.posts),
    marker: { colors: split.map((r) => COLORS[r.sentiment] || "#6b7280") },
    textinfo: "percent", textposition: "inside", insidetextorientation: "horizontal",
    hovertemplate: "%{label}: %{value} posts (%{percent})<extra></extra>",
  }], { height: 300, margin: { l: 12, r: 12, t: 8, b: 8 },
    legend: { orientation: "v", x: 1, y: 0.5, traceorder: "normal" } });

  d.entities.types.forEach((type, i) => {
    const rows = d.entities.by_type[type];
    const values = rows.map((r) => r.mentions);
    SS.bar("entities-" + type.toLowerCase(), rows.map((r) => short(r.entity)), values, {
      color: SS.COLORS[i % SS.COLORS.length], left: 150,
      layout: { height: Math.max(120, 24 * rows.length + 40), xaxis: whole(values) },
    });
  });
})();
