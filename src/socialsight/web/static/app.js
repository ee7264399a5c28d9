// socialsight dashboard: chart helpers over plotly.js, and click-to-reveal for blurred photos.
"use strict";

const SS = (() => {
  const COLORS = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04"];
  const PLATFORM_COLORS = { x: "#111827", bluesky: "#1185fe", mastodon: "#6364ff", file: "#6b7280" };
  const BASE = {
    margin: { l: 48, r: 12, t: 8, b: 40 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, -apple-system, Segoe UI, sans-serif", size: 12, color: "#1f2937" },
    legend: { orientation: "h", y: -0.2 },
    hoverlabel: { namelength: -1 },
  };
  const CONFIG = { displayModeBar: false, responsive: true };

  function element(target) {
    return typeof target === "string" ? document.getElementById(target) : target;
  }

  /** The page's data: the same JSON its /api twin returns. */
  function data() {
    const node = document.getElementById("page-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function empty(el, message) {
    el.classList.add("empty");
    el.textContent = message || "Nothing for these filters.";
    el.dataset.rendered = "empty";
  }

  /** Draw traces into el; onClick(point) is called with the clicked point. */
  function plot(target, traces, layout, onClick) {
    const el = element(target);
    if (!el) return;
    const hasData = traces.some((t) => (t.x || t.values || t.y || []).length);
    if (!hasData) return empty(el);
    if (typeof Plotly === "undefined") return empty(el, "The chart library did not load.");
    Plotly.newPlot(el, traces, Object.assign({}, BASE, layout || {}), CONFIG).then(() => {
      el.dataset.rendered = "true";
    });
    if (onClick) {
      el.classList.add("clickable");
      el.on("plotly_click", (event) => onClick(event.points[0]));
    }
  }

  /** A bar per label; horizontal by default, largest on top. */
  function bar(target, labels, values, options = {}) {
    const horizontal = options.horizontal !== false;
    const trace = horizontal
      ? { type: "bar", orientation: "h", y: labels.slice().reverse(), x: values.slice().reverse() }
      : { type: "bar", x: labels, y: values };
    trace.marker = { color: options.color || COLORS[0] };
    trace.hovertemplate = "%{" + (horizontal ? "y" : "x") + "}: %{" + (horizontal ? "x" : "y") + "}<extra></extra>";
    // Counts are whole numbers: no 0.5 ticks when the largest is small.
    const counts = Math.max(0, ...values) <= 6 ? { dtick: 1, tickformat: "d" } : { tickformat: ",d" };
    const layout = horizontal
      ? { margin: { l: options.left || 140, r: 12, t: 8, b: 32 }, height: Math.max(180, 26 * labels.length + 40), yaxis: { automargin: true }, xaxis: counts }
      : { height: options.height || 280, yaxis: counts };
    plot(target, [trace], Object.assign(layout, options.layout || {}), options.onClick);
  }

  /** Stacked bars over time, one series per group: rows of {t, group, value}. */
  function overTime(target, rows, groupKey, valueKey, labelOf) {
    const groups = [...new Set(rows.map((r) => r[groupKey]))];
    const traces = groups.map((g, i) => {
      const mine = rows.filter((r) => r[groupKey] === g);
      return {
        type: "bar", name: labelOf ? labelOf(g) : g,
        x: mine.map((r) => r.t), y: mine.map((r) => r[valueKey]),
        marker: { color: PLATFORM_COLORS[g] || COLORS[i % COLORS.length] },
      };
    });
    const stacks = {};
    for (const r of rows) stacks[r.t] = (stacks[r.t] || 0) + r[valueKey];
    const top = Math.max(0, ...Object.values(stacks));
    plot(target, traces, { barmode: "stack", height: 300, xaxis: { type: "date" },
      yaxis: top <= 6 ? { dtick: 1, tickformat: "d" } : { tickformat: ",d" } });
  }

  function pie(target, labels, values, options = {}) {
    plot(target, [{
      type: "pie", labels, values, hole: options.hole ?? 0.45, sort: false,
      marker: { colors: options.colors || labels.map((l, i) => PLATFORM_COLORS[l] || COLORS[i % COLORS.length]) },
      textinfo: "label+percent",
    }], { height: options.height || 280, showlegend: false }, options.onClick);
  }

  /** The current filters as a query string (for links a page builds). */
  function withFilters(path, extra) {
    const params = new URLSearchParams(window.location.search);
    params.delete("page");
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    const text = params.toString();
    return text ? path + "?" + text : path;
  }

  // A blurred photo (an <img>, or a face cropped from one as a background) is revealed by
  // its first click; the second follows its link.
  document.addEventListener("click", (event) => {
    const shown = event.target.closest("img.blurred, .face.blurred[data-src]");
    if (!shown) return;
    event.preventDefault();
    if (shown.tagName === "IMG") shown.src = shown.dataset.src;
    else shown.style.backgroundImage = `url("${shown.dataset.src}")`;
    shown.classList.remove("blurred");
    shown.classList.add("revealed");
    const badge = shown.parentElement.querySelector(".badge") || shown.querySelector(".badge");
    if (badge) badge.textContent = "sensitive";
  });

  return { data, plot, bar, overTime, pie, withFilters, empty, COLORS };
})();
