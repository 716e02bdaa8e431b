/* Compare two recordings side by side, from the diff engine behind /api/diff. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, number } = ER;
  const $ = (id) => document.getElementById(id);
  const root = $("compare");

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
      const result = await api("/api/diff", { params: params });
      $("result").hidden = false;
      ER.diffView.render({ verdict: $("verdict"), sides: $("sides"), list: $("differences"), moreId: "more-differences" }, result);
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
