/* Recordings list: sortable columns, search, broken files shown with their error. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, clear, number, duration, bytes, date, recordingUrl, debounce } = ER;
  const table = document.getElementById("recordings");
  const body = table.querySelector("tbody");
  const search = document.getElementById("search");
  const empty = document.getElementById("empty");
  const folder = document.getElementById("recordings-dir");
  const DESC_FIRST = new Set(["date", "events", "duration", "size"]);

  const params = new URLSearchParams(location.search);
  const state = {
    q: params.get("q") || "",
    sort: params.get("sort") || "name",
    order: params.get("order") || "asc",
  };
  let generation = 0;

  function remember() {
    const url = new URL(location.href);
    for (const key of ["q", "sort", "order"]) url.searchParams.set(key, state[key]);
    if (!state.q) url.searchParams.delete("q");
    history.replaceState(null, "", url.pathname + url.search);
  }

  function showSort() {
    table.querySelectorAll("th[data-sort]").forEach((th) => {
      if (th.dataset.sort === state.sort) {
        th.setAttribute("aria-sort", state.order === "asc" ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  function brokenRow(rec) {
    return h("tr", { class: "broken" },
      h("td", { class: "rec-name" },
        h("span", { class: "badge bad" }, "Unreadable"), " ",
        h("span", { class: "file" }, rec.filename)),
      h("td", { colspan: "3" }, h("span", { class: "error-text" }, rec.error)),
      h("td", { class: "num" }, bytes(rec.size_bytes)));
  }

  function row(rec) {
    if (rec.error) return brokenRow(rec);
    const title = rec.session_name || rec.filename;
    // A pending cassette is what a failing test produced: it goes to Review, not to replay.
    const pending = rec.pending
      ? [h("span", { class: "badge pending" }, "Pending"), " ",
        h("a", { class: "review-link", href: ER.pageUrl("/review") }, "Review")]
      : [];
    return h("tr", { "data-filename": rec.filename, class: rec.pending ? "pending" : null },
      h("td", { class: "rec-name" },
        h("a", { href: recordingUrl(rec.filename) }, title),
        h("span", { class: "file" }, rec.filename), ...pending),
      h("td", { title: rec.start_time || "" }, date(rec.start_time)),
      h("td", { class: "num" }, number(rec.total_events)),
      h("td", { class: "num" }, duration(rec.duration_ms)),
      h("td", { class: "num" }, bytes(rec.size_bytes)));
  }

  async function load() {
    const mine = ++generation;
    table.setAttribute("aria-busy", "true");
    try {
      const data = await api("/api/recordings", { params: state });
      if (mine !== generation) return;
      clear(body);
      data.recordings.forEach((rec) => body.appendChild(row(rec)));
      const n = data.count;
      clear(folder).appendChild(document.createTextNode(
        number(n) + (n === 1 ? " recording" : " recordings") + " in "));
      folder.appendChild(h("code", {}, data.recordings_dir || ""));
      empty.hidden = data.recordings.length > 0;
      empty.textContent = state.q
        ? "No recording matches “" + state.q + "”."
        : "No recordings yet. Record a session and save it into this folder.";
    } catch (err) {
      if (mine !== generation) return;
      clear(body);
      empty.hidden = false;
      empty.textContent = err.message;
    } finally {
      if (mine === generation) table.removeAttribute("aria-busy");
    }
  }

  table.querySelectorAll("th[data-sort] button").forEach((button) => {
    button.addEventListener("click", () => {
      const key = button.parentElement.dataset.sort;
      if (state.sort === key) state.order = state.order === "asc" ? "desc" : "asc";
      else {
        state.sort = key;
        state.order = DESC_FIRST.has(key) ? "desc" : "asc";
      }
      showSort();
      remember();
      load();
    });
  });

  const searchLater = debounce(() => {
    state.q = search.value.trim();
    remember();
    load();
  }, 150);
  search.value = state.q;
  search.addEventListener("input", searchLater);
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && search.value) {
      search.value = "";
      searchLater();
    }
  });
  document.addEventListener("keydown", (e) => {
    const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      search.focus();
    }
  });

  showSort();
  load();
})();
