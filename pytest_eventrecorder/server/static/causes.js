/* Causes: selecting an event highlights, in the table and on the timeline, the events it
 * caused (their metadata.caused_by is its index) and the event that caused it. A recording
 * without caused_by is asked once, then left as it is. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, number, offset } = ER;
  const $ = (id) => document.getElementById(id);
  const BASE = "/api/recording/" + ER.encodePath($("recording").dataset.filename);
  const SHOWN = 20;
  let linked = true;
  let generation = 0;
  let marks = new Map(); // event index -> "effect" | "cause"

  function markRows() {
    $("events").querySelectorAll("tbody tr").forEach((tr) => {
      const kind = marks.get(Number(tr.dataset.index));
      tr.classList.toggle("effect", kind === "effect");
      tr.classList.toggle("cause", kind === "cause");
    });
  }

  let span = 0; // the recording's length: every time reads in one unit

  function describe(brief) {
    return "#" + brief.index + " " + brief.event_name + " · " + offset(brief.timestamp_offset_ms, span);
  }

  function block(answer) {
    const parts = [];
    if (answer.caused_by) {
      parts.push(h("p", { class: "cause-line" }, h("span", { class: "swatch cause" }), "Caused by " + describe(answer.caused_by)));
    }
    if (answer.effects_total) {
      const n = answer.effects_total;
      parts.push(h("p", {}, h("span", { class: "swatch effect" }), "Caused " + number(n) + (n === 1 ? " event" : " events") + ":"));
      const list = h("ul", {}, answer.effects.slice(0, SHOWN).map((e) => h("li", { class: "mono" }, describe(e))));
      if (n > SHOWN) list.appendChild(h("li", { class: "muted" }, "… and " + number(n - SHOWN) + " more"));
      parts.push(list);
    }
    return parts.length ? h("section", { class: "causes" }, h("h4", {}, "Cause and effect"), parts) : null;
  }

  function show(answer, timeline) {
    marks = new Map(answer.effects.map((e) => [e.index, "effect"]));
    if (answer.caused_by) marks.set(answer.caused_by.index, "cause");
    markRows();
    const lines = answer.effects.map((e) => ({ ms: e.timestamp_offset_ms, kind: "effect" }));
    if (answer.caused_by) lines.push({ ms: answer.caused_by.timestamp_offset_ms, kind: "cause" });
    timeline.setHighlights(lines);
    span = timeline.full.to;
    const found = block(answer);
    const body = $("detail").querySelector(".detail-body");
    if (found && body) body.insertBefore(found, body.querySelector("h4"));
  }

  async function selected(e) {
    if (!linked) return;
    const mine = ++generation;
    const { event, timeline } = e.detail;
    try {
      const answer = await api(BASE + "/causes", { params: { index: event.index } });
      if (mine !== generation) return;
      linked = answer.linked;
      show(answer, timeline);
    } catch (err) {
      if (mine === generation) ER.toast("Cannot read the causes: " + err.message, { error: true });
    }
  }

  document.addEventListener("eventrecorder:select", selected);
  // The table is drawn again on every page, filter and selection: the marks go back on.
  new MutationObserver(markRows).observe($("events").querySelector("tbody"), { childList: true });
})();
