// People: the chart of known people, enrolling picked faces, forgetting a person.
"use strict";
(() => {
  const d = SS.data();

  if (d.people) {
    const seen = d.people.filter((p) => p.photos > 0);
    const chart = document.getElementById("people-photos");
    if (seen.length) {
      const most = Math.max(...seen.map((p) => p.photos));
      SS.bar(chart, seen.map((p) => p.name), seen.map((p) => p.photos), {
        layout: { xaxis: most <= 10 ? { dtick: 1 } : {} },
        onClick: (point) => {
          window.location.href = SS.withFilters(seen[seen.length - 1 - point.pointIndex].href);
        },
      });
    } else {
      SS.empty(chart, "No one known is recognised in these photos.");
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

  const form = document.getElementById("enrol");
  if (form) {
    const status = document.getElementById("enrol-status");
    const button = document.getElementById("enrol-submit");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const faces = [...form.querySelectorAll("input[name=face]:checked")].map((box) => ({
        tweetid: box.dataset.tweetid, mediaid: box.dataset.mediaid, face: Number(box.dataset.face),
      }));
      if (!faces.length) return say(status, "Tick at least one face of the person first.", true);
      const url = document.getElementById("enrol-url").value.trim();
      const body = { name: document.getElementById("enrol-name").value, urls: url ? [url] : [], faces };
      button.disabled = true;
      say(status, "Enrolling, then matching every face again…");
      try {
        const answer = await send("/api/people", {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
        say(status, `${answer.name}: ${answer.faces_added} face(s) enrolled, `
          + `${answer.photos_rematched} photo(s) matched again.`);
        window.location.reload();
      } catch (error) {
        say(status, error.message, true);
        button.disabled = false;
      }
    });
  }

  const forget = document.getElementById("forget");
  if (forget) {
    const person = document.getElementById("person");
    const status = document.getElementById("forget-status");
    forget.addEventListener("click", async () => {
      if (!window.confirm(`Forget ${person.dataset.name}? Their enrolled faces are removed `
        + "and every photo is matched again.")) return;
      forget.disabled = true;
      say(status, "Forgetting, then matching every face again…");
      try {
        await send(`/api/people/${encodeURIComponent(person.dataset.id)}`, { method: "DELETE" });
        window.location.href = SS.withFilters("/people");
      } catch (error) {
        say(status, error.message, true);
        forget.disabled = false;
      }
    });
  }
})();
