/* The side-by-side view of a diff answer (/api/diff): a verdict, the two recordings, and
 * each difference with both events' data; the Compare and Review pages show it. */
"use strict";

(function () {
  const ER = window.ER;
  const { h, clear, number, duration, offset, recordingUrl } = ER;
  const KIND_TEXT = { missing: "Missing in B", unexpected: "Only in B", changed: "Changed", moved: "Moved" };
  const KIND_COUNT = { missing: "missing in B", unexpected: "only in B", changed: "changed", moved: "moved" };
  const BATCH = 50;

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

  /** Show a diff answer in `parts`: {verdict, sides, list} elements (and `moreId`, the id
   *  of the "show more" button, where the page has one diff only). */
  function render(parts, result) {
    const verdict = clear(parts.verdict);
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
    clear(parts.sides).append(sideSummary(parts.labels ? parts.labels[0] : "A", result.a || {}),
      sideSummary(parts.labels ? parts.labels[1] : "B", result.b || {}));
    const list = clear(parts.list);
    const span = Math.max((result.a || {}).duration_ms || 0, (result.b || {}).duration_ms || 0);
    showMore(list, diffs, total, 0, span, parts.moreId);
  }

  /** Differences come in batches: hundreds of JSON trees at once would bog the page down. */
  function showMore(list, diffs, total, from, span, moreId) {
    diffs.slice(from, from + BATCH).forEach((d) => list.appendChild(difference(d, span)));
    const shown = Math.min(diffs.length, from + BATCH);
    if (shown >= total) return;
    const footer = h("p", { class: "empty" }, "Showing " + number(shown) + " of " + number(total) + " differences. ");
    if (shown < diffs.length) {
      const more = h("button", { class: "btn more-differences", type: "button", id: moreId || null },
        "Show " + number(Math.min(BATCH, diffs.length - shown)) + " more");
      more.addEventListener("click", () => {
        footer.remove();
        showMore(list, diffs, total, shown, span, moreId);
      });
      footer.appendChild(more);
    } else {
      footer.appendChild(document.createTextNode("Run eventrecorder diff for the full report."));
    }
    list.appendChild(footer);
  }

  ER.diffView = { render: render };
})();
