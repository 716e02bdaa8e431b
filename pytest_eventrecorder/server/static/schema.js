/* A recording's inferred schema: a table of fields per event name (read when the section is
 * first opened: inferring walks every event), and the AsyncAPI document to download. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, clear, number } = ER;
  const $ = (id) => document.getElementById(id);
  const FILENAME = $("recording").dataset.filename;
  const BASE = "/api/recording/" + ER.encodePath(FILENAME);
  let loaded = false;

  /** What else is known of a field: its format, the values it took, or the range seen. */
  function values(field) {
    if (field.format) return "format " + field.format;
    if (field.enum) return "one of " + field.enum.map((v) => JSON.stringify(v)).join(", ");
    if (field.minimum !== null && field.minimum !== undefined) {
      return field.minimum === field.maximum ? String(field.minimum) : field.minimum + " – " + field.maximum;
    }
    return "";
  }

  function fieldRow(field) {
    return h("tr", { "data-path": field.path },
      h("td", { class: "path mono" }, field.path),
      h("td", { class: "types" }, field.types.length ? field.types.join(" | ") : "any"),
      h("td", { class: "presence" + (field.required ? "" : " optional") }, field.required ? "required" : "optional"),
      h("td", { class: "values mono" }, values(field)));
  }

  function channel(item) {
    const color = ER.nameColor ? ER.nameColor(item.name) : "k9";
    const head = h("h3", { class: color }, h("span", { class: "dot" }), item.name);
    const facts = number(item.count) + (item.count === 1 ? " event" : " events") +
      (item.sources.length ? " · from " + item.sources.join(", ") : "");
    const table = h("table", { class: "data schema-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Type"),
        h("th", { scope: "col" }, "Presence"), h("th", { scope: "col" }, "Format, values or range"))),
      h("tbody", {}, item.fields.map(fieldRow)));
    const more = item.fields_truncated
      ? h("p", { class: "muted" }, "… more fields: the AsyncAPI document has them all.") : null;
    return h("section", { class: "schema-name", "data-name": item.name },
      h("div", { class: "schema-name-head" }, head, h("span", { class: "muted" }, facts)),
      h("div", { class: "table-wrap" }, table), more);
  }

  async function load() {
    loaded = true;
    const target = clear($("schema"));
    target.appendChild(h("p", { class: "muted" }, "Reading every event…"));
    try {
      const body = await api(BASE + "/schema");
      clear(target);
      body.event_names.forEach((item) => target.appendChild(channel(item)));
      if (!body.event_names.length) target.appendChild(h("p", { class: "empty" }, "This recording has no events."));
    } catch (err) {
      loaded = false;
      clear(target);
      ER.showError($("schema-error"), err);
    }
  }

  async function download() {
    try {
      const doc = await api(BASE + "/asyncapi");
      const blob = new Blob([JSON.stringify(doc, null, 2) + "\n"], { type: "application/json" });
      // A link made here, to data made here: ER.h() takes only local links.
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = (FILENAME.split("/").pop().split(".")[0] || "recording") + ".asyncapi.json";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (err) {
      ER.toast(err.message, { error: true });
    }
  }

  $("schema-details").addEventListener("toggle", () => {
    if ($("schema-details").open && !loaded) load();
  });
  $("schema-download").addEventListener("click", download);
})();
