/* The SVG timeline: one lane per source or event name, drag to zoom, keys to pan. */
"use strict";

(function () {
  const { s, clear, number, time, resolution } = window.ER;
  const LANE_H = 26;
  const TOP = 6;
  const AXIS_H = 26;
  const RIGHT = 30;
  const PAD = 8;
  const MAX_LANES = 14;
  const MIN_DRAG_PX = 5;
  // Ten microseconds: events a pytest test records can be a few microseconds apart.
  const MIN_SPAN_MS = 0.01;
  const MIN_STEP_MS = 0.001;
  const TICK_PX = 80;
  const LABEL_CHAR_PX = 7; // 11px tabular digits, with some slack
  const LABEL_GAP_PX = 24;

  // Steps that read well on a clock: whole seconds, minutes and hours past one second.
  const CLOCK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]
    .map((sec) => sec * 1000);

  function niceStep(span, target) {
    const raw = Math.max(span / target, MIN_STEP_MS);
    if (raw >= 1000) return CLOCK_STEPS.find((step) => step >= raw) || Math.ceil(raw / 86400000) * 86400000;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    // Rounded up, never down: ticks are at least as far apart as asked.
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  }

  /** Shorten an SVG text node until it fits `width` pixels (it must be in the document). */
  function fit(textNode, full, width) {
    let keep = full.length;
    while (keep > 1 && textNode.getComputedTextLength() > width) {
      keep -= Math.max(1, Math.floor((keep * 0.15)));
      textNode.firstChild.nodeValue = full.slice(0, keep) + "…";
    }
  }

  /** Past MAX_LANES, the least busy lanes are drawn together as one "others" lane. */
  function capLanes(lanes) {
    if (lanes.length <= MAX_LANES) return lanes;
    const kept = lanes.slice(0, MAX_LANES - 1);
    const rest = lanes.slice(MAX_LANES - 1);
    const histogram = [];
    for (const lane of rest) {
      (lane.histogram || []).forEach((n, i) => (histogram[i] = (histogram[i] || 0) + n));
    }
    kept.push({
      name: rest.length + " more",
      others: true,
      count: rest.reduce((sum, lane) => sum + lane.count, 0),
      offsets_ms: rest.flatMap((lane) => lane.offsets_ms || []),
      histogram: histogram,
    });
    return kept;
  }

  class Timeline {
    constructor(svg, options) {
      this.svg = svg;
      this.onZoom = options.onZoom;
      this.data = { duration_ms: 0, lanes: [] };
      this.color = () => "k9";
      this.view = null;
      this.cursor = null;
      this.marker = null;
      this.highlights = [];
      this.drag = null;
      this.bindPointer();
      this.bindKeys();
      new ResizeObserver(() => this.render()).observe(svg.parentElement);
    }

    get full() {
      return { from: 0, to: Math.max(this.data.duration_ms || 0, MIN_SPAN_MS) };
    }

    get range() {
      return this.view || this.full;
    }

    setData(data, color) {
      this.data = Object.assign({}, data, { lanes: capLanes(data.lanes) });
      this.color = color;
      this.render();
    }

    /** Show [from, to]; a range covering everything means "not zoomed". */
    setView(from, to, notify) {
      const full = this.full;
      let lo = Math.max(full.from, Math.min(from, to));
      let hi = Math.min(full.to, Math.max(from, to));
      if (hi - lo < MIN_SPAN_MS) {
        const mid = (lo + hi) / 2;
        lo = Math.max(full.from, mid - MIN_SPAN_MS / 2);
        hi = Math.min(full.to, lo + MIN_SPAN_MS);
      }
      const whole = lo <= full.from && hi >= full.to;
      this.view = whole ? null : { from: lo, to: hi };
      this.render();
      if (notify !== false) this.onZoom(this.view);
    }

    reset() {
      this.setView(this.full.from, this.full.to);
    }

    zoomBy(factor) {
      const { from, to } = this.range;
      const mid = (from + to) / 2;
      const half = ((to - from) * factor) / 2;
      const full = this.full;
      let lo = mid - half;
      let hi = mid + half;
      if (lo < full.from) [lo, hi] = [full.from, hi + (full.from - lo)];
      if (hi > full.to) [lo, hi] = [lo - (hi - full.to), full.to];
      this.setView(lo, hi);
    }

    pan(fraction) {
      if (!this.view) return;
      const { from, to } = this.view;
      const span = to - from;
      const full = this.full;
      const lo = Math.min(Math.max(full.from, from + span * fraction), full.to - span);
      this.setView(lo, lo + span);
    }

    /** A time on this view, precise enough to tell apart a `parts`-th of the range shown. */
    label(t, parts) {
      const { from, to } = this.range;
      return time(t, resolution((to - from) / parts), to);
    }

    rangeLabel() {
      return this.label(this.range.from, 100) + " – " + this.label(this.range.to, 100);
    }

    setCursor(ms) {
      this.cursor = ms;
      this.drawLines();
    }

    setMarker(ms) {
      this.marker = ms;
      this.drawLines();
    }

    /** Lines at other events' times, each `{ ms, kind }`: the kind is the line's class
     *  ("effect", "cause"); an empty list removes them. */
    setHighlights(marks) {
      this.highlights = marks;
      this.drawLines();
    }

    layout() {
      const width = Math.max(320, this.svg.parentElement.clientWidth);
      const labelW = width < 640 ? 112 : 176;
      const lanes = Math.max(1, this.data.lanes.length);
      return {
        width,
        height: TOP + lanes * LANE_H + AXIS_H,
        left: labelW,
        right: width - RIGHT,
        plotTop: TOP,
        plotBottom: TOP + lanes * LANE_H,
      };
    }

    x(t) {
      const { from, to } = this.range;
      const L = this.geom;
      return L.left + PAD + ((t - from) / (to - from)) * (L.right - L.left - 2 * PAD);
    }

    t(x) {
      const { from, to } = this.range;
      const L = this.geom;
      const inner = Math.min(Math.max(x - L.left - PAD, 0), L.right - L.left - 2 * PAD);
      return from + (inner / (L.right - L.left - 2 * PAD)) * (to - from);
    }

    render() {
      const L = (this.geom = this.layout());
      const svg = clear(this.svg);
      svg.setAttribute("viewBox", "0 0 " + L.width + " " + L.height);
      svg.setAttribute("height", String(L.height));
      this.drawAxis(svg, L);
      if (!this.data.lanes.length) {
        svg.appendChild(s("text", { class: "lane-count", x: L.left + 8, y: TOP + 17 }, "No events"));
      }
      this.pendingLabels = [];
      this.data.lanes.forEach((lane, i) => svg.appendChild(this.drawLane(lane, i, L)));
      for (const [label, name, width] of this.pendingLabels) fit(label, name, width);
      svg.appendChild(s("rect", {
        class: "plot-frame", x: L.left, y: L.plotTop, width: L.right - L.left,
        height: L.plotBottom - L.plotTop,
      }));
      this.lines = svg.appendChild(s("g", { class: "lines", "pointer-events": "none" }));
      this.brush = svg.appendChild(s("rect", { class: "brush", y: L.plotTop, height: L.plotBottom - L.plotTop, width: 0, visibility: "hidden" }));
      this.hover = svg.appendChild(s("g", { "pointer-events": "none", visibility: "hidden" },
        s("line", { class: "hover-line", y1: L.plotTop, y2: L.plotBottom }),
        s("rect", { class: "hover-bg", y: L.plotBottom + 4, width: 72, height: 18, rx: 4 }),
        s("text", { class: "hover-text", y: L.plotBottom + 17, "text-anchor": "middle" })));
      this.drawLines();
    }

    /** Ticks as close as their labels allow: long ones (1:29:59.99970) need more room. */
    axisStep(L) {
      const { from, to } = this.range;
      const ticks = (px) => Math.max(2, Math.floor((L.right - L.left) / px));
      const step = niceStep(to - from, ticks(TICK_PX));
      const room = time(to, step, to).length * LABEL_CHAR_PX + LABEL_GAP_PX;
      return room > TICK_PX ? niceStep(to - from, ticks(room)) : step;
    }

    drawAxis(svg, L) {
      const { from, to } = this.range;
      const step = this.axisStep(L);
      const ticks = [];
      // Ticks are whole multiples of the step (no summing: 0.1 + 0.2 drifts).
      for (let i = Math.max(0, Math.ceil(from / step - 1e-9)); i * step <= to + step * 1e-9; i++) {
        ticks.push([i * step, time(i * step, step, to), "middle"]);
      }
      // Too narrow for two ticks (a phone, long labels): the two ends say where the view is.
      const marks = ticks.length >= 2 ? ticks
        : [[from, this.label(from, 100), "start"], [to, this.label(to, 100), "end"]];
      const axis = s("g", { class: "axis" });
      for (const [t, text, anchor] of marks) {
        const x = this.x(t);
        axis.appendChild(s("line", { x1: x, x2: x, y1: L.plotTop, y2: L.plotBottom + 4 }));
        axis.appendChild(s("text", { x: x, y: L.plotBottom + 17, "text-anchor": anchor }, text));
      }
      svg.appendChild(axis);
    }

    drawLane(lane, i, L) {
      const top = L.plotTop + i * LANE_H;
      const name = lane.name ? String(lane.name) : "(none)";
      const count = number(lane.count);
      const colour = lane.others ? "k9 others" : this.color(lane.name);
      const g = s("g", { class: "lane " + colour, "data-lane": name });
      g.appendChild(s("rect", { class: "lane-bg" + (i % 2 ? " alt" : ""), x: 0, y: top, width: L.width, height: LANE_H }));
      const label = s("text", { class: "lane-label", x: 12, y: top + 17 }, name);
      g.appendChild(label);
      g.appendChild(s("title", {}, name + " · " + count));
      g.appendChild(s("text", { class: "lane-count", x: L.left - 10, y: top + 17, "text-anchor": "end" }, count));
      const offsets = lane.offsets_ms || [];
      if (offsets.length < lane.count) {
        // Only a sample of the offsets came back: the histogram shows the real density.
        g.appendChild(s("path", { class: "hist", d: this.histogramPath(lane.histogram || [], top) }));
      }
      g.appendChild(s("path", { class: "ticks", d: this.ticksPath(offsets, top) }));
      this.pendingLabels.push([label, name, L.left - 30 - count.length * 7]);
      return g;
    }

    histogramPath(histogram, top) {
      const max = Math.max(0, ...histogram);
      if (!max) return "";
      const start = typeof this.data.from_ms === "number" ? this.data.from_ms : 0;
      const end = typeof this.data.to_ms === "number" ? this.data.to_ms : this.full.to;
      const bucket = (end - start) / histogram.length;
      const { from, to } = this.range;
      const bottom = top + LANE_H - 3;
      const parts = [];
      histogram.forEach((count, i) => {
        const t0 = start + i * bucket;
        const t1 = t0 + bucket;
        if (!count || t1 < from || t0 > to) return;
        const x0 = this.x(Math.max(t0, from));
        const x1 = Math.max(x0 + 1, this.x(Math.min(t1, to)));
        const y = bottom - (count / max) * (LANE_H - 6);
        parts.push("M" + x0.toFixed(1) + " " + bottom + "V" + y.toFixed(1) + "H" + x1.toFixed(1) + "V" + bottom + "Z");
      });
      return parts.join("");
    }

    ticksPath(offsets, top) {
      const { from, to } = this.range;
      const seen = new Set();
      const parts = [];
      for (const t of offsets) {
        if (t < from || t > to) continue;
        const x = Math.round(this.x(t) * 2) / 2;
        if (seen.has(x)) continue;
        seen.add(x);
        parts.push("M" + x + " " + (top + 7) + "V" + (top + LANE_H - 7));
      }
      return parts.join("");
    }

    drawLines() {
      if (!this.lines) return;
      const L = this.geom;
      clear(this.lines);
      const { from, to } = this.range;
      const line = (ms, cls) => {
        if (ms === null || ms === undefined || ms < from || ms > to) return;
        const x = this.x(ms);
        this.lines.appendChild(s("line", { class: cls, x1: x, x2: x, y1: L.plotTop, y2: L.plotBottom }));
      };
      for (const mark of this.highlights) line(mark.ms, mark.kind);
      line(this.marker, "marker");
      line(this.cursor, "cursor");
    }

    pointerX(event) {
      const box = this.svg.getBoundingClientRect();
      return ((event.clientX - box.left) / box.width) * this.geom.width;
    }

    showHover(x) {
      const L = this.geom;
      if (x < L.left || x > L.right) {
        this.hover.setAttribute("visibility", "hidden");
        return;
      }
      const [lineEl, bg, text] = this.hover.childNodes;
      lineEl.setAttribute("x1", String(x));
      lineEl.setAttribute("x2", String(x));
      text.textContent = this.label(this.t(x), 500);
      const half = text.getComputedTextLength() / 2 + 8;
      const labelX = Math.min(Math.max(x, L.left + half), L.right - half);
      bg.setAttribute("x", String(labelX - half));
      bg.setAttribute("width", String(2 * half));
      text.setAttribute("x", String(labelX));
      this.hover.setAttribute("visibility", "visible");
    }

    bindPointer() {
      const svg = this.svg;
      svg.addEventListener("pointerdown", (e) => {
        if (e.button !== 0) return;
        const x = this.pointerX(e);
        if (x < this.geom.left || x > this.geom.right) return;
        this.drag = { x0: x, x1: x };
        svg.setPointerCapture(e.pointerId);
      });
      svg.addEventListener("pointermove", (e) => {
        const x = this.pointerX(e);
        this.showHover(Math.min(Math.max(x, this.geom.left), this.geom.right));
        if (!this.drag) return;
        this.drag.x1 = Math.min(Math.max(x, this.geom.left), this.geom.right);
        const lo = Math.min(this.drag.x0, this.drag.x1);
        this.brush.setAttribute("x", String(lo));
        this.brush.setAttribute("width", String(Math.abs(this.drag.x1 - this.drag.x0)));
        this.brush.setAttribute("visibility", "visible");
      });
      svg.addEventListener("pointerleave", () => this.hover.setAttribute("visibility", "hidden"));
      const finish = () => {
        const drag = this.drag;
        this.drag = null;
        this.brush.setAttribute("visibility", "hidden");
        if (drag && Math.abs(drag.x1 - drag.x0) >= MIN_DRAG_PX) {
          this.setView(this.t(drag.x0), this.t(drag.x1));
        }
      };
      svg.addEventListener("pointerup", finish);
      svg.addEventListener("pointercancel", finish);
    }

    bindKeys() {
      this.svg.addEventListener("keydown", (e) => {
        const actions = {
          "+": () => this.zoomBy(0.5),
          "=": () => this.zoomBy(0.5),
          "-": () => this.zoomBy(2),
          "_": () => this.zoomBy(2),
          ArrowLeft: () => this.pan(-0.2),
          ArrowRight: () => this.pan(0.2),
          "0": () => this.reset(),
          Escape: () => this.reset(),
        };
        const action = actions[e.key];
        if (!action) return;
        e.preventDefault();
        action();
      });
    }
  }

  window.ER.Timeline = Timeline;
})();
