/* Replay panel: start, pause/resume, stop, speed; live progress from the SSE stream. */
"use strict";

(function () {
  const { api, stream, h, clear, number, offset, preview, recordingUrl, toast } = window.ER;
  const ACTIVE = new Set(["playing", "paused"]);
  const TERMINAL = new Set(["idle", "stopped", "finished"]);
  const LABELS = { idle: "Idle", playing: "Playing", paused: "Paused", stopped: "Stopped", finished: "Finished" };
  const POLL_MS = 400;

  class ReplayPanel {
    constructor(root, filename, options) {
      this.root = root;
      this.filename = filename;
      this.onOffset = options.onOffset;
      this.color = options.color;
      this.duration = options.duration;
      this.total = options.total;
      this.status = { status: "idle" };
      this.follower = null;
      this.$ = (id) => root.querySelector("#" + id);
      this.$("replay-start").addEventListener("click", () => this.act(() => this.start()));
      this.$("replay-pause").addEventListener("click", () => this.act(() => this.togglePause()));
      this.$("replay-stop").addEventListener("click", () => this.act(() => this.stop()));
      this.$("replay-speed").addEventListener("change", () => this.act(() => this.changeSpeed()));
    }

    async init() {
      await this.act(async () => {
        this.render(await api("/api/replay/status"));
        if (ACTIVE.has(this.status.status)) this.follow();
      });
    }

    async act(fn) {
      try {
        await fn();
      } catch (err) {
        toast(err.message, { error: true });
      }
    }

    speed() {
      return Number(this.$("replay-speed").value);
    }

    async start() {
      const path = "/api/replay/start/" + window.ER.encodePath(this.filename);
      const started = await api(path, { method: "POST", body: { speed: this.speed() } });
      this.render(Object.assign({}, this.status, started, { position: 0, current_event: null, current_offset_ms: 0 }));
      this.follow();
    }

    async togglePause() {
      const result = await api("/api/replay/pause", { method: "POST" });
      this.render(Object.assign({}, this.status, result));
      if (ACTIVE.has(result.status)) this.follow();
    }

    async stop() {
      const result = await api("/api/replay/stop", { method: "POST" });
      this.render(Object.assign({}, this.status, result));
    }

    async changeSpeed() {
      if (!ACTIVE.has(this.status.status)) return;
      const result = await api("/api/replay/speed", { method: "POST", body: { speed: this.speed() } });
      this.render(Object.assign({}, this.status, result));
    }

    /** Follow progress over the stream; poll the status route if the stream is unavailable. */
    follow() {
      if (this.follower) this.follower.abort();
      const controller = new AbortController();
      this.follower = controller;
      stream("/api/replay/stream", (status) => this.render(status), controller.signal)
        .then(() => {
          if (this.follower === controller && !TERMINAL.has(this.status.status)) this.poll(controller);
        })
        .catch((err) => {
          if (err.name !== "AbortError" && this.follower === controller) this.poll(controller);
        });
    }

    poll(controller) {
      const tick = async () => {
        if (controller.signal.aborted) return;
        try {
          this.render(await api("/api/replay/status", { signal: controller.signal }));
        } catch (err) {
          if (err.name !== "AbortError") toast("Replay progress unavailable: " + err.message, { error: true });
          return;
        }
        if (!TERMINAL.has(this.status.status)) setTimeout(tick, POLL_MS);
      };
      setTimeout(tick, POLL_MS);
    }

    render(status) {
      if (status.filename && status.filename !== this.filename) {
        this.renderOther(status);
        return;
      }
      this.status = status;
      const state = status.status || "idle";
      const active = ACTIVE.has(state);
      this.renderBadges(status, state);
      this.renderButtons(state, active);
      this.renderProgress(status, state);
      this.renderNow(status, state);
      this.onOffset(active ? status.current_offset_ms : null);
    }

    /** The server replays one recording at a time: another one's progress is not ours. */
    renderOther(status) {
      const state = status.status || "idle";
      const busy = ACTIVE.has(state);
      this.status = { status: "idle" };
      this.renderBadges(status, "idle");
      if (busy) {
        const badge = this.$("replay-status");
        badge.textContent = "Busy";
        badge.className = "badge warn";
      }
      this.renderButtons("idle", false);
      this.renderProgress({ position: 0, total: this.total }, "idle");
      const now = clear(this.$("replay-now"));
      now.appendChild(h("span", { class: "muted" }, busy ? "Now replaying " : "Last replayed: "));
      now.appendChild(h("a", { href: recordingUrl(status.filename) }, status.filename));
      now.appendChild(h("span", { class: "muted" }, busy ? " (starting here stops it)" : ""));
      this.onOffset(null);
    }

    renderBadges(status, state) {
      const badge = this.$("replay-status");
      badge.textContent = LABELS[state] || state;
      badge.className = "badge" + (state === "playing" ? " accent" : state === "finished" ? " ok" : "");
      const simulated = status.simulation !== false;
      const mode = this.$("replay-mode");
      mode.textContent = simulated ? "Simulation" : "Live";
      mode.className = "badge " + (simulated ? "sim" : "bad");
      this.$("replay-note").textContent = simulated
        ? "A simulation: events are replayed with their timing, nothing is published to a real bus."
        : "Live: events are published to the configured broker.";
    }

    renderButtons(state, active) {
      this.$("replay-start").disabled = active;
      const pause = this.$("replay-pause");
      pause.disabled = !active;
      pause.querySelector("span").textContent = state === "paused" ? "Resume" : "Pause";
      pause.setAttribute("aria-pressed", state === "paused" ? "true" : "false");
      this.$("replay-stop").disabled = !active;
      const select = this.$("replay-speed");
      if (typeof this.status.speed === "number" && active) {
        const value = String(this.status.speed);
        if (![...select.options].some((o) => o.value === value)) {
          select.appendChild(h("option", { value: value }, value + "×"));
        }
        select.value = value;
      }
    }

    renderProgress(status, state) {
      const total = status.total || (state === "idle" ? this.total || 0 : 0);
      const position = Math.min(status.position || 0, total);
      const pct = total ? (position / total) * 100 : state === "finished" ? 100 : 0;
      const bar = this.$("replay-progress");
      bar.firstElementChild.style.width = pct.toFixed(2) + "%";
      bar.setAttribute("aria-valuenow", String(Math.round(pct)));
      bar.classList.toggle("paused", state === "paused");
      bar.classList.toggle("done", state === "finished");
      this.$("replay-position").textContent = number(position) + " / " + number(total) + " events";
      this.$("replay-offset").textContent =
        offset(status.current_offset_ms || 0, this.duration) + " / " + offset(this.duration, this.duration);
    }

    renderNow(status, state) {
      const now = clear(this.$("replay-now"));
      if (status.error) {
        now.appendChild(h("span", { class: "error-text" }, status.error));
        return;
      }
      const ev = status.current_event;
      if (!ev || state === "idle") {
        now.appendChild(h("span", { class: "muted" }, state === "idle" ? "Not running" : LABELS[state] || state));
        return;
      }
      now.appendChild(h("span", { class: "dot " + this.color(ev.event_name) }));
      now.appendChild(h("strong", {}, ev.event_name));
      if (ev.source) now.appendChild(h("span", { class: "muted" }, ev.source));
      now.appendChild(h("span", { class: "mono muted" }, preview(ev.event_data, 120)));
    }
  }

  window.ER.ReplayPanel = ReplayPanel;
})();
