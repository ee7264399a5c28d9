// SQL console: load a seed query, run it (button or Ctrl/Cmd+Enter), show rows or the error.
"use strict";
(() => {
  const d = SS.data();
  const form = document.getElementById("sql-form");
  const text = document.getElementById("sql");
  const dialect = document.getElementById("dialect");
  const seed = document.getElementById("seed");
  const run = document.getElementById("run");
  const status = document.getElementById("status");
  const error = document.getElementById("sql-error");
  const results = document.getElementById("results");
  const summary = document.getElementById("summary");
  const table = document.getElementById("result-table");
  const SHAREABLE = 2000; // SQL up to this long is kept in the address, for a link or reload
  const LONG = 60; // characters in a cell before it wraps in a box of its own
  let busy = false;

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
    results.hidden = true; // rows of an earlier query would read as this one's
    status.textContent = "";
  }

  async function failure(response) {
    try {
      const body = await response.json();
      return body.error || (typeof body.detail === "string" ? body.detail : response.statusText);
    } catch (_) {
      return `the server answered ${response.status} ${response.statusText}`;
    }
  }

  function cell(value) {
    const td = document.createElement("td");
    if (value === null || value === undefined) {
      td.textContent = "NULL";
      td.className = "null";
      return td;
    }
    const nested = typeof value === "object";
    const text = nested ? JSON.stringify(value) : String(value);
    if (nested || text.length > LONG) {
      const box = document.createElement("div"); // long values wrap in a box of their own
      box.className = "long";
      box.textContent = text;
      td.appendChild(box);
      if (nested) td.className = "nested";
    } else {
      td.textContent = text;
      if (typeof value === "number") td.className = "num";
    }
    return td;
  }

  function render(result) {
    const head = document.createElement("tr");
    for (const column of result.columns) {
      const th = document.createElement("th");
      th.textContent = column.name;
      th.title = column.type;
      head.appendChild(th);
    }
    const body = document.createDocumentFragment();
    for (const row of result.rows) {
      const tr = document.createElement("tr");
      for (const value of row) tr.appendChild(cell(value));
      body.appendChild(tr);
    }
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(body);
    const time = `${result.elapsed_ms.toLocaleString("en")} ms`;
    summary.replaceChildren();
    if (result.truncated) {
      // Only the rows shown (and one more) were read: the total is not counted.
      const note = document.createElement("span");
      note.className = "truncated";
      note.textContent = `Showing the first ${result.shown.toLocaleString("en")} rows; ` +
        `there are more than ${result.max_rows.toLocaleString("en")} (Download CSV has them all)`;
      summary.append(note, ` · ${time}`);
    } else {
      const b = document.createElement("b");
      const count = result.row_count.toLocaleString("en");
      b.textContent = result.row_count === 1 ? "1 row" : `${count} rows`;
      summary.append(b, ` · ${time}`);
    }
    results.hidden = false;
  }

  function remember() {
    const url = new URL(window.location.href);
    url.search = "";
    if (text.value.length <= SHAREABLE) {
      url.searchParams.set("sql", text.value);
      if (dialect.value !== "athena") url.searchParams.set("dialect", dialect.value);
    }
    history.replaceState(null, "", url);
  }

  async function execute() {
    if (busy) return;
    error.hidden = true;
    if (!text.value.trim()) return showError("Write a query first, or choose one of the seed's.");
    busy = true;
    run.disabled = true;
    status.textContent = "Running…";
    try {
      const response = await fetch("/api/sql", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ sql: text.value, dialect: dialect.value }),
      });
      if (!response.ok) return showError(await failure(response));
      render(await response.json());
      status.textContent = "";
      remember();
    } catch (exc) {
      showError(`The query did not reach the server: ${exc.message}`);
    } finally {
      busy = false;
      run.disabled = false;
    }
  }

  async function download(event) {
    event.preventDefault();
    error.hidden = true;
    if (!text.value.trim()) return showError("Write a query first, or choose one of the seed's.");
    status.textContent = "Preparing the CSV…";
    try {
      const response = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) });
      if (!response.ok) return showError(await failure(response));
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = "socialsight-query.csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      status.textContent = "";
    } catch (exc) {
      showError(`The download failed: ${exc.message}`);
    }
  }

  seed.addEventListener("change", () => {
    const chosen = d.seeds.find((s) => s.name === seed.value);
    if (!chosen) return;
    text.value = chosen.sql.trim();
    dialect.value = "athena";
    error.hidden = true;
    text.focus();
  });
  run.addEventListener("click", execute);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      execute();
    }
  });
  form.addEventListener("submit", download);
})();
