/* Review: each pending cassette with its differences from the recorded one (the compare
 * view), and Accept / Reject buttons. */
"use strict";

(function () {
  const ER = window.ER;
  const { api, h, clear, number, duration, recordingUrl, encodePath } = ER;
  const $ = (id) => document.getElementById(id);

  function header(item) {
    return h("div", { class: "card-head review-head" },
      h("div", {},
        h("h2", {}, h("span", { class: "badge pending" }, "Pending"), " ",
          h("a", { href: recordingUrl(item.filename), class: "mono" }, item.filename)),
        h("p", { class: "muted" }, item.recorded_exists
          ? "Would replace " : "No recorded cassette yet: accepting it creates ",
        h("span", { class: "mono" }, item.recorded))),
      h("div", { class: "toolbar" },
        h("button", { class: "btn primary accept", type: "button" }, "Accept"),
        h("button", { class: "btn reject", type: "button" }, "Reject")));
  }

  function card(item) {
    const parts = { verdict: h("div", { class: "verdict" }), sides: h("div", { class: "sides" }),
      list: h("div", { class: "differences" }), labels: ["A · recorded", "B · pending"] };
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const body = h("div", { class: "card-body" }, alert, parts.verdict, parts.sides, parts.list);
    const section = h("section", { class: "card review-item", "data-filename": item.filename },
      header(item), body);
    section.querySelector(".accept").addEventListener("click", () => decide(section, item, "accept"));
    section.querySelector(".reject").addEventListener("click", () => decide(section, item, "reject"));
    if (item.error) ER.showError(alert, new Error(item.error));
    else if (item.recorded_exists) showDiff(item, parts, alert);
    else parts.verdict.appendChild(h("p", {}, number(item.total_events) + " events over " +
      duration(item.duration_ms) + "; nothing to compare with."));
    return section;
  }

  async function showDiff(item, parts, alert) {
    try {
      ER.diffView.render(parts, await api("/api/diff", { params: { a: item.recorded, b: item.filename } }));
    } catch (err) {
      ER.showError(alert, err);
    }
  }

  async function decide(section, item, action) {
    const buttons = section.querySelectorAll(".toolbar button");
    buttons.forEach((b) => (b.disabled = true));
    const alert = section.querySelector(".alert");
    try {
      await api("/api/review/" + action + "/" + encodePath(item.filename), { method: "POST" });
      const done = action === "accept"
        ? ["Accepted: ", h("a", { href: recordingUrl(item.recorded), class: "mono" }, item.recorded), " now holds it."]
        : ["Rejected: the pending cassette is deleted; ", h("span", { class: "mono" }, item.recorded), " stays as it was."];
      section.classList.add("decided");
      const body = clear(section.querySelector(".card-body"));
      body.appendChild(h("p", { class: "review-done", role: "status" }, ...done));
      section.querySelector(".toolbar").remove();
    } catch (err) {
      ER.showError(alert, err);
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  async function load() {
    try {
      const data = await api("/api/review");
      const list = clear($("pending"));
      data.pending.forEach((item) => list.appendChild(card(item)));
      $("pending-empty").hidden = data.count > 0;
    } catch (err) {
      ER.showError($("error"), err);
    }
  }

  load();
})();
