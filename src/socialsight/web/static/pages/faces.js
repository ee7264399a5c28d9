// Faces: top emotions, ages and genders (app.js reveals the blurred faces of sensitive photos).
"use strict";
(() => {
  const d = SS.data();
  // Whole numbers on a count axis while the counts are small.
  const whole = (values) => (Math.max(0, ...values) <= 10 ? { dtick: 1 } : {});
  const title = (e) => e.charAt(0) + e.slice(1).toLowerCase();
  const emotions = d.emotions.map((r) => r.faces);
  SS.bar("emotions", d.emotions.map((r) => title(r.emotion)), emotions,
    { left: 90, layout: { xaxis: whole(emotions) } });
  const ages = d.totals.faces ? d.ages : [];
  const aged = ages.map((r) => r.faces);
  SS.bar("ages", ages.map((r) => r.ages), aged,
    { horizontal: false, color: SS.COLORS[2], layout: { yaxis: whole(aged) } });
  const GENDER_COLORS = { Female: "#9333ea", Male: "#f97316" };
  SS.pie("genders", d.genders.map((r) => r.gender), d.genders.map((r) => r.faces),
    { colors: d.genders.map((r) => GENDER_COLORS[r.gender] || "#94a3b8") });
})();
