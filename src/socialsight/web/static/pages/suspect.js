// Suspect content: suspect photos by reason and by moderation label (app.js reveals photos).
"use strict";
(() => {
  const d = SS.data();
  // Whole numbers on a count axis while the counts are small.
  const whole = (values) => ({ xaxis: Math.max(0, ...values) <= 10 ? { dtick: 1 } : {} });
  const reasons = d.reasons.map((r) => r.photos);
  SS.bar("suspect-reasons", d.reasons.map((r) => r.reason), reasons,
    { color: "#dc2626", left: 200, layout: whole(reasons) });
  const labels = d.labels.map((r) => r.photos);
  if (labels.length) {
    SS.bar("suspect-labels", d.labels.map((r) => r.label), labels,
      { color: "#f97316", left: 200, layout: whole(labels) });
  } else {
    SS.empty(document.getElementById("suspect-labels"), "No moderation labels for these filters.");
  }
})();
