// Brands: one brand's charts (picked), the brands side by side, enrolling and forgetting.
"use strict";
(() => {
  const d = SS.data();
  const PHOTO = "#2563eb";
  const TEXT = "#f97316";
  const STATUS = "socialsight-brands-status"; // what the last change did, across the reload

  // A chart drawn again for another brand starts from an empty box.
  function fresh(id) {
    const el = document.getElementById(id);
    if (!el) return null;
    if (typeof Plotly !== "undefined") Plotly.purge(el);
    el.classList.remove("empty");
    el.textContent = "";
    delete el.dataset.rendered;
    return el;
  }

  const counts = (top) => (top <= 6 ? { dtick: 1, tickformat: "d" } : { tickformat: ",d" });

  function grouped(id, x, photo, text, layout) {
    const el = fresh(id);
    if (!el) return;
    if (!photo.some((v) => v) && !text.some((v) => v)) return SS.empty(el, "No posts mention it for these filters.");
    SS.plot(el, [
      { type: "bar", name: "in photos", x, y: photo, marker: { color: PHOTO } },
      { type: "bar", name: "in text", x, y: text, marker: { color: TEXT } },
    ], Object.assign({ barmode: "group", height: 300, yaxis: counts(Math.max(...photo, ...text)) },
      layout || {}));
  }

  function draw(brand) {
    const days = d.by_day.filter((r) => r.brand === brand.name);
    grouped("brand-over-time", days.map((r) => r.t), days.map((r) => r.photo),
      days.map((r) => r.text), { xaxis: { type: "date" } });
    const platforms = d.by_platform.filter((r) => r.brand === brand.name);
    grouped("brand-platforms", platforms.map((r) => d.platforms[r.platform] || r.platform),
      platforms.map((r) => r.photo), platforms.map((r) => r.text));
    grouped("brand-sentiment", d.sentiments.map((s) => s.toLowerCase()),
      d.sentiments.map((s) => brand.sentiment.photo[s]),
      d.sentiments.map((s) => brand.sentiment.text[s]));
  }

  if (d.brands && d.brands.length) {
    const pick = document.getElementById("brand-pick");
    pick.addEventListener("change", () => draw(d.brands[Number(pick.value)]));
    draw(d.brands[Number(pick.value) || 0]);

    const names = d.brands.map((b) => b.name).reverse();
    const trace = (name, key, color) => ({
      type: "bar", orientation: "h", name, y: names, marker: { color },
      x: d.brands.map((b) => b[key]).reverse(),
    });
    const side = fresh("brands-side-by-side");
    if (d.totals.posts) {
      SS.plot(side, [
        trace("image-only", "image_only_posts", PHOTO),
        trace("both", "both_posts", "#9333ea"),
        { ...trace("text only", "text_posts", TEXT),
          x: d.brands.map((b) => b.text_posts - b.both_posts).reverse() },
      ], { barmode: "stack", height: Math.max(200, 30 * names.length + 80),
        margin: { l: 140, r: 12, t: 8, b: 40 }, yaxis: { automargin: true },
        xaxis: counts(Math.max(...d.brands.map((b) => b.posts))) });
    } else {
      SS.empty(side, "No posts mention a brand for these filters.");
    }
  }

  function say(node, text, bad) {
    node.textContent = text;
    node.classList.toggle("error", Boolean(bad));
  }

  async function send(url, options) {
    const response = await fetch(url, options);
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `the server answered ${response.status}`);
    return answer;
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const rescanned = (r) => `${plural(r.photos, "photo")} searched again, ${r.changed} changed`
    + (r.missing ? ` (${r.missing} not stored: only their text was searched)` : "");

  // What the last enrolment or removal did, said once after the page reloads.
  const change = document.getElementById("brand-change");
  const said = window.sessionStorage.getItem(STATUS);
  if (said && change) {
    change.textContent = said;
    change.hidden = false;
    window.sessionStorage.removeItem(STATUS);
  }

  const form = document.getElementById("brand-enrol");
  if (form) {
    const status = document.getElementById("brand-status");
    const button = document.getElementById("brand-submit");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new FormData(form);
      button.disabled = true;
      say(status, "Enrolling, then searching every photo again…");
      try {
        const answer = await send("/api/brands", { method: "POST", body });
        window.sessionStorage.setItem(STATUS, `${answer.name} is enrolled (`
          + `${plural(answer.logos, "logo")}; words: ${answer.words.join(", ")}): `
          + `${rescanned(answer.rescan)}.`);
        window.location.reload();
      } catch (error) {
        say(status, error.message, true);
        button.disabled = false;
      }
    });
  }

  const forgetStatus = document.getElementById("forget-status");
  for (const button of document.querySelectorAll("#brands-table button.forget")) {
    const row = button.closest("tr");
    button.addEventListener("click", async () => {
      if (!window.confirm(`Forget ${row.dataset.name}? Its logos and words are removed, `
        + "and its labels leave every photo.")) return;
      button.disabled = true;
      say(forgetStatus, `Forgetting ${row.dataset.name}, then searching every photo again…`);
      try {
        const answer = await send(`/api/brands/${encodeURIComponent(row.dataset.id)}`,
          { method: "DELETE" });
        window.sessionStorage.setItem(STATUS, `${answer.name} is forgotten: `
          + `${rescanned(answer.rescan)}.`);
        window.location.reload();
      } catch (error) {
        say(forgetStatus, error.message, true);
        button.disabled = false;
      }
    });
  }
})();
