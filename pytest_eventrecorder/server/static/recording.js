/* One recording: summary, timeline, filtered event table, JSON detail, save subset, replay. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, clear, number, time, resolution, duration, bytes, date, palette, preview, debounce } = ER;
  const root = document.getElementById("recording");
  const $ = (id) => document.getElementById(id);
  const FILENAME = root.dataset.filename;
  const BASE = "/api/recording/" + ER.encodePath(FILENAME);
  const SELECT_ALL_CAP = 100000;
  const FETCH_CHUNK = 1000;
  const MAX_BARS = 100;
  const NARROW = window.matchMedia("(max-width: 1000px)");

  const state = {
    info: null,
    by: "source",
    filters: { event_name: "", source: "", field: "", value: "", q: "" },
    range: null,
    offset: 0,
    limit: 50,
    total: 0,
    rows: [],
    selected: new Set(),
    current: null,
    nameColor: () => "k9",
    timeStep: 1,
  };
  // Colour means an event name, everywhere; sources are drawn in one neutral ink.
  const sourceColor = () => "src";
  let generation = 0;
  const rowEvents = new WeakMap();

  /* ---- header and summaries --------------------------------------------------------- */

  function renderHeader(info) {
    $("title").textContent = info.session_name || FILENAME;
    document.title = (info.session_name || FILENAME) + " · Event Recorder";
    const meta = clear($("meta"));
    const item = (label, value, title) =>
      meta.appendChild(h("li", title ? { title: title } : {}, label + " ", h("strong", {}, value)));
    item("Started", date(info.start_time), info.start_time);
    item("Duration", duration(info.duration_ms));
    item("Events", number(info.total_events));
    item("Size", bytes(info.size_bytes));
    item("Format", "v" + info.version);
  }

  function renderBars(list, summary, color, filterKey) {
    const entries = Object.entries(summary || {});
    const max = Math.max(1, ...entries.map(([, n]) => n));
    clear(list);
    for (const [key, count] of entries.slice(0, MAX_BARS)) {
      const name = key || "(none)";
      const fill = h("div", { class: "fill" });
      fill.style.width = ((count / max) * 100).toFixed(1) + "%";
      const button = h("button", {
        type: "button", class: color(key), "aria-pressed": "false", "data-value": key,
        title: key ? "Show only " + name : "", disabled: !key,
      }, h("span", { class: "dot" }), h("span", { class: "name" }, name),
      h("span", { class: "count" }, number(count)), h("span", { class: "track" }, fill));
      button.addEventListener("click", () => {
        const filter = state.filters[filterKey] === key ? "" : key;
        setFilter(filterKey, filter);
      });
      list.appendChild(h("li", {}, button));
    }
    if (!entries.length) list.appendChild(h("li", { class: "empty" }, "No events"));
    if (entries.length > MAX_BARS) {
      list.appendChild(h("li", { class: "more-bars" }, "… and " + number(entries.length - MAX_BARS) + " more (use the filters below)"));
    }
    fadeWhileMore(list);
    return entries.length;
  }

  /** A list taller than its card fades out at the bottom until scrolled to its end. */
  function fadeWhileMore(list) {
    const update = () => list.classList.toggle(
      "more-below", list.scrollTop + list.clientHeight < list.scrollHeight - 1);
    list.addEventListener("scroll", update, { passive: true });
    requestAnimationFrame(update);
  }

  function renderSummaries(info) {
    const names = renderBars($("by-name"), info.event_summary, state.nameColor, "event_name");
    const sources = renderBars($("by-source"), info.source_summary, sourceColor, "source");
    $("by-name-count").textContent = number(names) + (names === 1 ? " name" : " names");
    $("by-source-count").textContent = number(sources) + (sources === 1 ? " source" : " sources");
  }

  function markPressed() {
    for (const [id, key] of [["by-name", "event_name"], ["by-source", "source"]]) {
      $(id).querySelectorAll("button").forEach((b) => {
        b.setAttribute("aria-pressed", String(b.dataset.value === state.filters[key]));
      });
    }
  }

  /* ---- filters ------------------------------------------------------------------------ */

  function fillSelect(select, values) {
    for (const value of values) select.appendChild(h("option", { value: value }, value));
  }

  async function loadFields() {
    const fields = await api(BASE + "/fields");
    fillSelect($("f-name"), fields.event_names || []);
    fillSelect($("f-source"), fields.sources || []);
    fillSelect($("f-field"), fields.fields || []);
  }

  function setFilter(key, value) {
    state.filters[key] = value;
    const input = FILTER_INPUTS[key];
    if ($(input).value !== value) $(input).value = value;
    refilter();
  }

  function refilter() {
    state.offset = 0;
    markPressed();
    renderChips();
    keepInUrl();
    loadEvents();
  }

  const FILTER_INPUTS = { event_name: "f-name", source: "f-source", field: "f-field", value: "f-value", q: "f-q" };

  /** The filters live in the address too: a reload or a shared link shows the same events. */
  function keepInUrl() {
    const url = new URL(location.href);
    for (const key of Object.keys(FILTER_INPUTS)) {
      if (state.filters[key]) url.searchParams.set(key, state.filters[key]);
      else url.searchParams.delete(key);
    }
    history.replaceState(null, "", url.pathname + url.search);
  }

  function filtersFromUrl() {
    const params = new URLSearchParams(location.search);
    for (const key of Object.keys(FILTER_INPUTS)) state.filters[key] = params.get(key) || "";
  }

  function showFilters() {
    for (const [key, id] of Object.entries(FILTER_INPUTS)) $(id).value = state.filters[key];
    markPressed();
    renderChips();
  }

  function renderChips() {
    const chips = clear($("chips"));
    const chip = (label, onClear) => {
      const x = h("button", { type: "button", "aria-label": "Remove filter " + label }, "×");
      x.addEventListener("click", onClear);
      chips.appendChild(h("span", { class: "chip" }, label, x));
    };
    if (state.range) {
      chip("Time " + timeline.rangeLabel(), () => timeline.reset());
    }
    const f = state.filters;
    if (f.event_name) chip("Event: " + f.event_name, () => setFilter("event_name", ""));
    if (f.source) chip("Source: " + f.source, () => setFilter("source", ""));
    if (f.field && f.value) chip(f.field + " = " + f.value, () => setFilter("value", ""));
    if (f.q) chip("“" + f.q + "”", () => setFilter("q", ""));
  }

  function queryParams() {
    const f = state.filters;
    const params = { event_name: f.event_name, source: f.source, q: f.q };
    if (f.field && f.value) Object.assign(params, { field: f.field, value: f.value });
    if (state.range) Object.assign(params, { from_ms: state.range.from, to_ms: state.range.to });
    return params;
  }

  function bindFilters() {
    const later = debounce(refilter, 200);
    $("f-name").addEventListener("change", (e) => setFilter("event_name", e.target.value));
    $("f-source").addEventListener("change", (e) => setFilter("source", e.target.value));
    $("f-field").addEventListener("change", (e) => {
      state.filters.field = e.target.value;
      if (state.filters.value) refilter();
      if (e.target.value) $("f-value").focus();
    });
    for (const [id, key] of [["f-value", "value"], ["f-q", "q"]]) {
      $(id).addEventListener("input", (e) => {
        state.filters[key] = e.target.value.trim();
        later();
      });
    }
    $("f-clear").addEventListener("click", () => {
      state.filters = { event_name: "", source: "", field: "", value: "", q: "" };
      for (const id of ["f-name", "f-source", "f-field", "f-value", "f-q"]) $(id).value = "";
      if (state.range) timeline.reset();
      else refilter();
    });
  }

  /* ---- event table ---------------------------------------------------------------------- */

  async function loadEvents() {
    const mine = ++generation;
    const params = Object.assign(queryParams(), { limit: state.limit, offset: state.offset });
    $("events").setAttribute("aria-busy", "true");
    try {
      const page = await api(BASE + "/events", { params: params });
      if (mine !== generation) return;
      state.rows = page.events;
      state.total = page.total;
      renderRows();
    } catch (err) {
      if (mine !== generation) return;
      state.rows = [];
      state.total = 0;
      renderRows(err.message);
    } finally {
      if (mine === generation) $("events").removeAttribute("aria-busy");
    }
  }

  function row(ev) {
    // Rows form one tab stop (arrow keys move, Space selects), so the boxes are not tab stops.
    const box = h("input", { type: "checkbox", tabindex: "-1", "aria-label": "Select event " + ev.index });
    box.checked = state.selected.has(ev.index);
    box.addEventListener("click", (e) => e.stopPropagation());
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(ev.index);
      else state.selected.delete(ev.index);
      syncPageCheckbox();
      renderSavebar();
    });
    const current = state.current && state.current.index === ev.index;
    const tr = h("tr", { tabindex: "-1", "aria-selected": String(Boolean(current)), "data-index": ev.index },
      h("td", { class: "check" }, box),
      h("td", { class: "num idx" }, String(ev.index)),
      h("td", { class: "time", title: ev.timestamp_offset_ms + " ms" }, rowTime(ev)),
      h("td", { class: "ev-name " + state.nameColor(ev.event_name), title: ev.event_name }, h("span", { class: "dot" }), ev.event_name),
      h("td", { class: "source", title: ev.source == null ? "" : ev.source }, ev.source == null ? "—" : ev.source),
      h("td", { class: "preview" }, preview(ev.event_data, 240)));
    tr.addEventListener("click", () => {
      showDetail(ev, tr);
      // Stacked layout: the detail sits below the table, bring it into view.
      if (NARROW.matches) $("detail").scrollIntoView({ block: "start", behavior: "smooth" });
    });
    tr.addEventListener("keydown", (e) => rowKey(e, tr));
    rowEvents.set(tr, ev);
    return tr;
  }

  function moveTo(tr) {
    $("events").querySelectorAll("tbody tr").forEach((r) => (r.tabIndex = r === tr ? 0 : -1));
    tr.focus();
  }

  function rowKey(e, tr) {
    if (e.target !== tr) return;
    const moves = { ArrowDown: tr.nextElementSibling, ArrowUp: tr.previousElementSibling,
      Home: tr.parentElement.firstElementChild, End: tr.parentElement.lastElementChild };
    if (e.key === "Enter") showDetail(rowEvents.get(tr), tr);
    else if (e.key === " ") tr.querySelector("input[type=checkbox]").click();
    else if (e.key in moves) {
      const next = moves[e.key];
      if (next) {
        moveTo(next);
        showDetail(rowEvents.get(next), next);
      }
    } else return;
    e.preventDefault();
  }

  /** The range the table shows: the zoomed one, or the whole recording. */
  function shownRange() {
    return state.range || { from: 0, to: (state.info && state.info.duration_ms) || 0 };
  }

  /** Table times go to the millisecond, finer for a short range and finer still when
   *  rows on the page are closer than that, so no two different times read the same. */
  function rowStep(rows) {
    const { from, to } = shownRange();
    const offsets = rows.map((ev) => ev.timestamp_offset_ms).sort((a, b) => a - b);
    let step = to > from ? Math.min(1, resolution((to - from) / 1000)) : 1;
    offsets.forEach((t, i) => {
      if (i && t > offsets[i - 1]) step = Math.min(step, resolution(t - offsets[i - 1]));
    });
    return step;
  }

  function rowTime(ev) {
    return time(ev.timestamp_offset_ms, state.timeStep, shownRange().to);
  }

  function renderRows(error) {
    state.timeStep = rowStep(state.rows);
    const body = clear($("events").querySelector("tbody"));
    state.rows.forEach((ev) => body.appendChild(row(ev)));
    const entry = body.querySelector('tr[aria-selected="true"]') || body.firstElementChild;
    if (entry) entry.tabIndex = 0;
    const empty = $("events-empty");
    empty.hidden = state.rows.length > 0;
    const filtered = state.range || Object.values(state.filters).some(Boolean);
    empty.textContent = error || (filtered ? "No event matches these filters." : "This recording has no events.");
    $("events-total").textContent = number(state.total) + (state.total === 1 ? " event" : " events");
    const first = state.total ? state.offset + 1 : 0;
    const last = state.offset + state.rows.length;
    $("page-info").textContent = state.total
      ? "Showing " + number(first) + "–" + number(last) + " of " + number(state.total)
      : "No events to show";
    $("page-first").disabled = $("page-prev").disabled = state.offset === 0;
    $("page-next").disabled = $("page-last").disabled = last >= state.total;
    const matching = $("select-matching");
    matching.hidden = state.total <= state.rows.length || state.total > SELECT_ALL_CAP;
    matching.textContent = "Select all " + number(state.total) + " matching";
    syncPageCheckbox();
  }

  function syncPageCheckbox() {
    const box = $("select-page");
    const picked = state.rows.filter((ev) => state.selected.has(ev.index)).length;
    box.checked = picked > 0 && picked === state.rows.length;
    box.indeterminate = picked > 0 && picked < state.rows.length;
  }

  function bindTable() {
    $("select-page").addEventListener("change", (e) => {
      for (const ev of state.rows) {
        if (e.target.checked) state.selected.add(ev.index);
        else state.selected.delete(ev.index);
      }
      renderRows();
      renderSavebar();
    });
    $("select-matching").addEventListener("click", selectAllMatching);
    const go = (offsetFn) => () => {
      state.offset = Math.max(0, offsetFn());
      loadEvents();
    };
    $("page-first").addEventListener("click", go(() => 0));
    $("page-prev").addEventListener("click", go(() => state.offset - state.limit));
    $("page-next").addEventListener("click", go(() => state.offset + state.limit));
    $("page-last").addEventListener("click", go(() => Math.floor((state.total - 1) / state.limit) * state.limit));
    $("page-size").addEventListener("change", (e) => {
      state.limit = Number(e.target.value);
      state.offset = 0;
      loadEvents();
    });
  }

  async function selectAllMatching() {
    const button = $("select-matching");
    button.disabled = true;
    try {
      for (let start = 0; start < state.total; start += FETCH_CHUNK) {
        const params = Object.assign(queryParams(), { limit: FETCH_CHUNK, offset: start });
        const page = await api(BASE + "/events", { params: params });
        page.events.forEach((ev) => state.selected.add(ev.index));
        if (page.events.length === 0) break;
      }
    } catch (err) {
      ER.toast(err.message, { error: true });
    } finally {
      button.disabled = false;
      renderRows();
      renderSavebar();
    }
  }

  /* ---- detail ------------------------------------------------------------------------------ */

  function showDetail(ev, tr) {
    state.current = ev;
    $("events").querySelectorAll("tbody tr").forEach((r) => {
      r.setAttribute("aria-selected", String(r === tr));
      r.tabIndex = r === tr ? 0 : -1;
    });
    const detail = h("div", { class: "detail-inner" });
    clear($("detail")).appendChild(detail);
    const facts = h("dl", {});
    const fact = (label, value) => facts.append(h("dt", {}, label), h("dd", {}, value));
    fact("Index", String(ev.index));
    fact("Time", rowTime(ev) + "  (" + ev.timestamp_offset_ms + " ms)");
    fact("Source", ev.source === null || ev.source === undefined ? "—" : ev.source);
    if (ev.event_type) fact("Type", ev.event_type);
    detail.appendChild(h("div", { class: "detail-head" },
      h("h3", { class: state.nameColor(ev.event_name) }, h("span", { class: "dot" }), ev.event_name), facts));
    const tree = ER.jsonTree(ev.event_data, 3);
    const body = h("div", { class: "detail-body" });
    const action = (label, fn) => {
      const b = h("button", { class: "btn small", type: "button" }, label);
      b.addEventListener("click", fn);
      return b;
    };
    body.appendChild(h("div", { class: "detail-actions" },
      action("Expand all", () => ER.setTreeOpen(body, true)),
      action("Collapse all", () => ER.setTreeOpen(body, false)),
      action("Copy JSON", () => copy(ev.event_data))));
    body.appendChild(h("h4", {}, "event_data"));
    body.appendChild(tree);
    if (ev.metadata && Object.keys(ev.metadata).length) {
      body.appendChild(h("h4", {}, "metadata"));
      body.appendChild(ER.jsonTree(ev.metadata, 1));
    }
    detail.appendChild(body);
    timeline.setMarker(ev.timestamp_offset_ms);
    // causes.js adds what this event caused, or what caused it
    document.dispatchEvent(new CustomEvent("eventrecorder:select", { detail: { event: ev, timeline: timeline } }));
  }

  async function copy(value) {
    try {
      await navigator.clipboard.writeText(JSON.stringify(value, null, 2));
      ER.toast("Copied the event data as JSON");
    } catch (err) {
      ER.toast("Cannot copy: " + err.message, { error: true });
    }
  }

  /* ---- save a subset ------------------------------------------------------------------------- */

  function saveMode() {
    const hasSel = state.selected.size > 0;
    if (hasSel && state.range) return document.querySelector('input[name="save-mode"]:checked').value;
    return hasSel ? "selection" : "range";
  }

  function renderSavebar() {
    const bar = $("savebar");
    const hasSel = state.selected.size > 0;
    bar.hidden = !hasSel && !state.range;
    if (bar.hidden) return;
    const n = number(state.selected.size) + (state.selected.size === 1 ? " event" : " events");
    const span = state.range ? timeline.rangeLabel() : "";
    $("save-choice").hidden = !(hasSel && state.range);
    $("save-sel-label").textContent = n + " selected";
    $("save-range-label").textContent = "All events in " + span;
    $("save-what").textContent = hasSel && state.range ? "Save" : hasSel ? n + " selected" : "Time range " + span;
    $("save-clear").hidden = !hasSel;
    const name = $("save-name");
    if (!name.dataset.touched) {
      const base = (state.info && state.info.session_name) || "recording";
      name.value = base + (saveMode() === "range" ? "-range" : "-subset");
    }
  }

  /** The event detail sticks below the top bar and the save bar, and a row scrolled to
   *  (by keys or focus) stops below them too. */
  function keepClearOf(bar) {
    const top = document.querySelector(".topbar").offsetHeight + bar.offsetHeight;
    document.documentElement.style.setProperty("--sticky-top", top + "px");
    document.documentElement.style.scrollPaddingTop = top + 8 + "px";
  }

  async function save(e) {
    e.preventDefault();
    const name = $("save-name").value.trim();
    if (!name) {
      $("save-name").focus();
      return;
    }
    const body = { source_filename: FILENAME, new_session_name: name };
    if (saveMode() === "range") Object.assign(body, { from_ms: state.range.from, to_ms: state.range.to });
    else body.event_indices = [...state.selected].sort((a, b) => a - b);
    $("save-button").disabled = true;
    try {
      const made = await api("/api/recording/create", { method: "POST", body: body });
      const link = h("a", { href: ER.recordingUrl(made.filename) }, "Open " + made.filename);
      ER.toast("Saved " + number(made.total_events) + " events as a new recording.", { link: link });
      state.selected.clear();
      delete $("save-name").dataset.touched;
      renderRows();
      renderSavebar();
    } catch (err) {
      ER.toast(err.message, { error: true });
    } finally {
      $("save-button").disabled = false;
    }
  }

  function bindSavebar() {
    $("savebar").addEventListener("submit", save);
    new ResizeObserver(() => keepClearOf($("savebar"))).observe($("savebar"));
    $("save-name").addEventListener("input", (e) => {
      e.target.dataset.touched = "1";
    });
    document.querySelectorAll('input[name="save-mode"]').forEach((r) => r.addEventListener("change", renderSavebar));
    $("save-clear").addEventListener("click", () => {
      state.selected.clear();
      renderRows();
      renderSavebar();
    });
  }

  /* ---- timeline ------------------------------------------------------------------------------ */

  const timeline = new ER.Timeline($("timeline"), {
    onZoom(view) {
      state.range = view;
      $("zoom-reset").disabled = !view;
      showRange();
      renderSavebar();
      refilter();
      loadTimeline().catch(fail);
    },
  });

  function showRange() {
    $("timeline-range").textContent = timeline.rangeLabel() + (state.range ? " · zoomed" : "");
  }

  const laneOrder = {};
  let timelineGeneration = 0;

  /** Lanes keep the order of the full view while zoomed, so they do not jump around. */
  function ordered(data) {
    const order = laneOrder[state.by];
    if (!order) {
      laneOrder[state.by] = data.lanes.map((lane) => lane.name);
      return data;
    }
    const rank = new Map(order.map((name, i) => [name, i]));
    const lanes = [...data.lanes].sort((a, b) => (rank.get(a.name) ?? 1e9) - (rank.get(b.name) ?? 1e9));
    return Object.assign({}, data, { lanes: lanes });
  }

  async function loadTimeline() {
    const mine = ++timelineGeneration;
    const params = { buckets: 200, by: state.by };
    if (state.range) Object.assign(params, { from_ms: state.range.from, to_ms: state.range.to });
    const data = await api(BASE + "/timeline", { params: params });
    if (mine !== timelineGeneration) return;
    timeline.setData(ordered(data), state.by === "source" ? sourceColor : state.nameColor);
    showRange();
  }

  function bindTimeline() {
    document.querySelectorAll("[data-by]").forEach((button) => {
      button.addEventListener("click", () => {
        state.by = button.dataset.by;
        document.querySelectorAll("[data-by]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
        loadTimeline().catch(fail);
      });
    });
    $("zoom-in").addEventListener("click", () => timeline.zoomBy(0.5));
    $("zoom-out").addEventListener("click", () => timeline.zoomBy(2));
    $("zoom-reset").addEventListener("click", () => timeline.reset());
  }

  /* ---- start ---------------------------------------------------------------------------------- */

  function fail(err) {
    ER.showError($("error"), err);
  }

  async function start() {
    let info;
    try {
      info = await api(BASE);
    } catch (err) {
      fail(err);
      $("content").hidden = true;
      return;
    }
    $("compare-link").hidden = false; // nothing to compare in a file that cannot be read
    state.info = info;
    filtersFromUrl();
    state.nameColor = palette(Object.keys(info.event_summary || {}));
    ER.nameColor = state.nameColor; // the schema section colours event names alike
    renderHeader(info);
    renderSummaries(info);
    bindFilters();
    bindTable();
    bindSavebar();
    bindTimeline();
    // A pending cassette's page has no replay panel: it is never replayed.
    const replay = $("replay") && new ER.ReplayPanel($("replay"), FILENAME, {
      onOffset: (ms) => timeline.setCursor(ms),
      color: (name) => state.nameColor(name),
      duration: info.duration_ms,
      total: info.total_events,
    });
    await Promise.all([
      loadFields().then(showFilters).catch(fail), loadTimeline().catch(fail), loadEvents(), replay && replay.init(),
    ]);
  }

  start();
})();
