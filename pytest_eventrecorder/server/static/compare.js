/* Compare two recordings side by side, from the diff engine behind /api/diff. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, clear, number, duration, offset, recordingUrl } = ER;
  const $ = (id) => document.getElementById(id);
  const root = $("compare");
  const KIND_TEXT = { missing: "Missing in B", unexpected: "Only in B", changed: "Changed", moved: "Moved" };
  const KIND_COUNT = { missing: "missing in B", unexpected: "only in B", changed: "changed", moved: "moved" };
  const BATCH = 50;

  function fillPickers(recordings) {
    for (const select of [$("pick-a"), $("pick-b")]) {
      for (const rec of recordings) {
        const label = rec.error ? rec.filename + " (unreadable)" : rec.filename + " · " + number(rec.total_events) + " events";
        select.appendChild(h("option", { value: rec.filename, disabled: Boolean(rec.error) }, label));
      }
    }
    $("pick-a").value = root.dataset.a;
    $("pick-b").value = root.dataset.b;
    $("ignore").value = new URLSearchParams(location.search).get("ignore") || "";
  }

  function ignoredFields() {
    return $("ignore").value.split(",").map((f) => f.trim()).filter(Boolean);
  }

  function sideSummary(label, summary) {
    const facts = [];
    if (summary.total_events !== undefined) facts.push(h("span", {}, h("strong", {}, number(summary.total_events)), " events"));
    if (summary.duration_ms !== undefined) facts.push(h("span", {}, h("strong", {}, duration(summary.duration_ms)), " long"));
    const name = summary.filename || "";
    return h("section", { class: "card side-summary" },
      h("div", { class: "card-head" },
        h("h2", {}, h("span", { class: "badge" }, label), " ", summary.session_name || name),
        name ? h("a", { href: recordingUrl(name), class: "mono" }, name) : null),
      h("div", { class: "card-body" }, facts));
  }

  /** The paths inside event_data named by lines like "event_data.order.price: 1 != 2". */
  function changedPaths(lines) {
    const prefix = "event_data.";
    return (lines || [])
      .map((line) => line.split(": ")[0])
      .filter((path) => path.startsWith(prefix))
      .map((path) => path.slice(prefix.length));
  }

  /** `span`: the longer recording's duration, so both sides read times in one unit. */
  function eventBlock(ev, index, sideLabel, marks, span) {
    if (!ev) return h("div", {}, h("div", { class: "side-label" }, sideLabel), h("p", { class: "absent" }, "— not present"));
    return h("div", {},
      h("div", { class: "side-label" }, sideLabel + " · #" + index + " · " + offset(ev.timestamp_offset_ms, span)),
      ER.jsonTree(ev.event_data, 1, marks));
  }

  function difference(d, span) {
    const where = [];
    if (d.expected_index !== null && d.expected_index !== undefined) where.push("A #" + d.expected_index);
    if (d.actual_index !== null && d.actual_index !== undefined) where.push("B #" + d.actual_index);
    const card = h("article", { class: "card diff " + d.kind },
      h("div", { class: "diff-head" },
        h("span", { class: "badge kind-" + d.kind }, KIND_TEXT[d.kind] || d.kind),
        h("span", { class: "ev" }, d.event_name),
        d.source ? h("span", { class: "muted" }, d.source) : null,
        h("span", { class: "where" }, where.join(" ↔ "))));
    if (d.field_diffs && d.field_diffs.length) {
      card.appendChild(h("ul", { class: "field-diffs" }, d.field_diffs.map((line) => h("li", {}, line))));
    }
    const marks = changedPaths(d.field_diffs);
    card.appendChild(h("div", { class: "diff-cols" },
      eventBlock(d.expected, d.expected_index, "A", marks, span),
      eventBlock(d.actual, d.actual_index, "B", marks, span)));
    return card;
  }

  function render(result) {
    $("result").hidden = false;
    const verdict = clear($("verdict"));
    const diffs = result.differences || [];
    const total = typeof result.total_differences === "number" ? result.total_differences : diffs.length;
    if (result.equal) {
      verdict.append(h("span", { class: "badge ok" }, "Identical"), h("h2", {}, "No differences"));
    } else {
      // Counts cover every difference, not only the first ones the answer carries.
      const counts = result.counts || {};
      verdict.appendChild(h("h2", {}, number(total) + (total === 1 ? " difference" : " differences")));
      for (const kind of ["changed", "moved", "missing", "unexpected"]) {
        if (counts[kind]) verdict.appendChild(h("span", { class: "badge kind-" + kind }, number(counts[kind]) + " " + KIND_COUNT[kind]));
      }
    }
    // An ignored field that names nothing ignores nothing: a typo, usually.
    for (const note of result.warnings || []) verdict.appendChild(h("p", { class: "muted ignore-warning" }, "Note: " + note));
    clear($("sides")).append(sideSummary("A", result.a || {}), sideSummary("B", result.b || {}));
    const list = clear($("differences"));
    const span = Math.max((result.a || {}).duration_ms || 0, (result.b || {}).duration_ms || 0);
    showMore(list, diffs, total, 0, span);
  }

  /** Differences come in batches: hundreds of JSON trees at once would bog the page down. */
  function showMore(list, diffs, total, from, span) {
    diffs.slice(from, from + BATCH).forEach((d) => list.appendChild(difference(d, span)));
    const shown = Math.min(diffs.length, from + BATCH);
    if (shown >= total) return;
    const footer = h("p", { class: "empty" }, "Showing " + number(shown) + " of " + number(total) + " differences. ");
    if (shown < diffs.length) {
      const more = h("button", { class: "btn", type: "button", id: "more-differences" },
        "Show " + number(Math.min(BATCH, diffs.length - shown)) + " more");
      more.addEventListener("click", () => {
        footer.remove();
        showMore(list, diffs, total, shown, span);
      });
      footer.appendChild(more);
    } else {
      footer.appendChild(document.createTextNode("Run eventrecorder diff for the full report."));
    }
    list.appendChild(footer);
  }

  async function run() {
    const a = $("pick-a").value;
    const b = $("pick-b").value;
    if (!a || !b) return;
    const params = { a: a, b: b, ignore_field: ignoredFields() };
    const url = new URL(location.href);
    url.searchParams.set("a", a);
    url.searchParams.set("b", b);
    if (params.ignore_field.length) url.searchParams.set("ignore", params.ignore_field.join(","));
    else url.searchParams.delete("ignore");
    history.replaceState(null, "", url.pathname + url.search);
    $("error").hidden = true;
    $("run-compare").disabled = true;
    try {
      render(await api("/api/diff", { params: params }));
    } catch (err) {
      $("result").hidden = true;
      ER.showError($("error"), err);
    } finally {
      $("run-compare").disabled = false;
    }
  }

  $("compare-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });
  $("swap").addEventListener("click", () => {
    const a = $("pick-a").value;
    $("pick-a").value = $("pick-b").value;
    $("pick-b").value = a;
    if ($("pick-a").value && $("pick-b").value) run();
  });

  api("/api/recordings", { params: { sort: "name", order: "asc" } })
    .then((data) => {
      fillPickers(data.recordings);
      if ($("pick-a").value && $("pick-b").value) run();
    })
    .catch((err) => ER.showError($("error"), err));
})();
