/* Shared helpers for the dashboard pages.
 *
 * Recorded event data is untrusted: everything from the API reaches the page through
 * ER.h() / text nodes, never as markup. ER.h() refuses event-handler attributes and
 * non-local links so a slip in a caller cannot turn data into code either.
 */
"use strict";

(function () {
  const tokenMeta = document.querySelector('meta[name="eventrecorder-token"]');
  const TOKEN = tokenMeta ? tokenMeta.getAttribute("content") || "" : "";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const FORBIDDEN_ATTR = /^(on|style$|srcdoc$|formaction$)/i;
  const URL_ATTRS = new Set(["href", "src", "action", "xlink:href"]);

  function query(params) {
    const qs = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) {
        if (v !== undefined && v !== null && v !== "") qs.append(key, String(v));
      }
    }
    const text = qs.toString();
    return text ? "?" + text : "";
  }

  /** URL of a dashboard page; carries the token so the next page is allowed too. */
  function pageUrl(path, params) {
    return path + query(Object.assign({}, params, TOKEN ? { token: TOKEN } : {}));
  }

  function encodePath(filename) {
    return String(filename).split("/").map(encodeURIComponent).join("/");
  }

  function recordingUrl(filename) {
    return pageUrl("/recording/" + encodePath(filename));
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  function authHeaders(extra) {
    const headers = Object.assign({ Accept: "application/json" }, extra || {});
    if (TOKEN) headers.Authorization = "Bearer " + TOKEN;
    return headers;
  }

  /** Call the REST API; resolves to the parsed JSON, rejects with the server's error text. */
  async function api(path, options) {
    const opts = options || {};
    const init = { method: opts.method || "GET", headers: authHeaders(), signal: opts.signal };
    if (opts.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    let response;
    try {
      response = await fetch(path + query(opts.params), init);
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError("Cannot reach the dashboard server (" + err.message + ")", 0);
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) {
      const message = payload && typeof payload.error === "string" ? payload.error : "";
      throw new ApiError(message || "Request failed with HTTP " + response.status, response.status);
    }
    return payload;
  }

  /** Read a server-sent-event stream with fetch (EventSource cannot send the token header). */
  async function stream(path, onMessage, signal) {
    const response = await fetch(path, {
      headers: authHeaders({ Accept: "text/event-stream" }),
      signal: signal,
      cache: "no-store",
    });
    if (!response.ok || !response.body) throw new ApiError("stream unavailable", response.status);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) onMessage(JSON.parse(data));
      }
    }
  }

  function setAttr(node, name, value) {
    if (value === undefined || value === null || value === false) return;
    if (FORBIDDEN_ATTR.test(name)) throw new Error("refusing to set attribute " + name);
    const text = value === true ? "" : String(value);
    if (URL_ATTRS.has(name.toLowerCase()) && !/^[/?#]/.test(text)) {
      throw new Error("refusing a non-local link: " + text);
    }
    node.setAttribute(name, text);
  }

  function append(node, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) append(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    }
  }

  function build(node, props, children) {
    const p = props || {};
    for (const [key, value] of Object.entries(p)) {
      if (key === "class") setAttr(node, "class", value);
      else if (key === "text") node.textContent = String(value);
      else if (key === "on") {
        for (const [type, handler] of Object.entries(value)) node.addEventListener(type, handler);
      } else if (key === "props") Object.assign(node, value);
      else setAttr(node, key, value);
    }
    append(node, children);
    return node;
  }

  /** Create an HTML element; strings among the children become text nodes. */
  function h(tag, props, ...children) {
    return build(document.createElement(tag), props, children);
  }

  function s(tag, props, ...children) {
    return build(document.createElementNS(SVG_NS, tag), props, children);
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  /* ---- formatting --------------------------------------------------------------- */

  function number(n) {
    return typeof n === "number" && isFinite(n) ? n.toLocaleString("en-US") : "—";
  }

  const MICROSECOND = 0.001;

  /** The power of ten at or below `ms` (1 µs at least): the precision that tells apart
   *  times `ms` apart. */
  function resolution(ms) {
    return ms > MICROSECOND ? Math.pow(10, Math.floor(Math.log10(ms))) : MICROSECOND;
  }

  function decimals(step) {
    return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  }

  function fixed(n, digits) {
    return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  /** m:ss, or h:mm:ss on a scale of hours, with `digits` decimals of a second (rounded,
   *  not cut: 1.9996 s is 0:02.000). */
  function clock(ms, digits, hours) {
    const per = Math.pow(10, digits);
    const ticks = Math.round((Math.max(0, ms) / 1000) * per);
    const secs = Math.floor(ticks / per);
    const tail = pad(secs % 60) + (digits ? "." + String(ticks % per).padStart(digits, "0") : "");
    const mins = Math.floor(secs / 60);
    return hours ? Math.floor(mins / 60) + ":" + pad(mins % 60) + ":" + tail : mins + ":" + tail;
  }

  /** Every time and duration on the pages: `ms` to the nearest `step` ms, in the unit that
   *  suits a scale reaching `upTo` ms: µs under a millisecond, ms under a second, s under
   *  a minute, then m:ss and h:mm:ss. One scale, one unit: times side by side compare. */
  function time(ms, step, upTo) {
    if (typeof ms !== "number" || !isFinite(ms)) return "—";
    const fine = Math.max(step || 1, MICROSECOND);
    const top = Math.max(typeof upTo === "number" ? upTo : ms, ms);
    if (top > 0 && top < 1) return fixed(ms * 1000, decimals(fine * 1000)) + " µs";
    if (top < 1000) return fixed(ms, decimals(fine)) + " ms";
    if (top < 60000) return fixed(ms / 1000, decimals(fine / 1000)) + " s";
    return clock(ms, decimals(fine / 1000), top >= 3600000);
  }

  /** A length, to three significant digits. */
  function duration(ms) {
    return time(ms, ms > 0 ? resolution(ms / 100) : 1, ms);
  }

  /** An offset into a recording `span` ms long: to the millisecond, finer for short spans. */
  function offset(ms, span) {
    const scale = typeof span === "number" && span > 0 ? span : ms;
    return time(ms, scale > 0 ? Math.min(1, resolution(scale / 1000)) : 1, scale);
  }

  function bytes(n) {
    if (typeof n !== "number" || !isFinite(n)) return "—";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)) + " " + units[unit];
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  /** In UTC, as cassettes and the command line write times, and saying so. */
  function date(iso) {
    if (typeof iso !== "string" || !iso) return "—";
    const d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return (
      d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC"
    );
  }

  /** A colour class per name, in the order given (most common first): nine colours for
   *  the first nine names, then grey, as for "others" and unknown names. Colours never
   *  wrap around, so one colour never stands for two names. */
  function palette(names) {
    const map = new Map(names.slice(0, 9).map((name, i) => [name, "k" + i]));
    return (name) => map.get(name) || "k9";
  }

  function preview(value, max) {
    let text;
    try {
      text = JSON.stringify(value);
    } catch (_) {
      text = String(value);
    }
    if (text === undefined) text = "undefined";
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function debounce(fn, ms) {
    let timer = 0;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }

  /* ---- JSON tree ------------------------------------------------------------------ */

  const TREE_CHILD_LIMIT = 200;

  function isBytes(value) {
    return (
      value !== null && typeof value === "object" && !Array.isArray(value) &&
      Object.keys(value).length === 1 && typeof value.__bytes__ === "string"
    );
  }

  function scalar(value) {
    if (value === null) return h("span", { class: "z" }, "null");
    if (typeof value === "string") return h("span", { class: "s" }, JSON.stringify(value));
    if (typeof value === "number") return h("span", { class: "n" }, String(value));
    if (typeof value === "boolean") return h("span", { class: "b" }, String(value));
    return h("span", { class: "z" }, String(value));
  }

  function keyLabel(key) {
    return key === null ? null : [h("span", { class: "k" }, key), ": "];
  }

  function node(key, value, depth, ctx, path) {
    const mark = ctx.marks.has(path) ? " changed" : "";
    if (isBytes(value)) {
      const size = Math.floor((value.__bytes__.length * 3) / 4);
      return h("li", { class: "leaf" + mark }, keyLabel(key),
        h("span", { class: "meta-note", title: value.__bytes__ }, "bytes · " + bytes(size)));
    }
    if (value === null || typeof value !== "object") {
      return h("li", { class: "leaf" + mark }, keyLabel(key), scalar(value));
    }
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    const count = entries.length;
    const note = isArray ? "[" + count + (count === 1 ? " item]" : " items]")
      : "{" + count + (count === 1 ? " key}" : " keys}");
    if (count === 0) {
      return h("li", { class: "leaf" + mark }, keyLabel(key), h("span", { class: "meta-note" }, isArray ? "[]" : "{}"));
    }
    const list = h("ul", { role: "group" });
    for (const [k, v] of entries.slice(0, TREE_CHILD_LIMIT)) {
      list.appendChild(node(k, v, depth + 1, ctx, key === null ? k : path + "." + k));
    }
    if (count > TREE_CHILD_LIMIT) {
      list.appendChild(h("li", { class: "more" }, "… " + number(count - TREE_CHILD_LIMIT) + " more"));
    }
    const details = h("details", {}, h("summary", {}, keyLabel(key), h("span", { class: "meta-note" }, note)), list);
    details.open = depth < ctx.openDepth || ctx.ancestors.has(path);
    return h("li", { class: mark.trim() }, details);
  }

  /** A collapsible tree of a JSON value; every key and value is inserted as text.
   *  `marks` holds dotted paths to highlight (their ancestors are opened). */
  function jsonTree(value, openDepth, marks) {
    const ctx = {
      openDepth: openDepth === undefined ? 2 : openDepth,
      marks: new Set(marks || []),
      ancestors: new Set([""]),
    };
    for (const path of ctx.marks) {
      const parts = path.split(".");
      for (let i = 1; i < parts.length; i++) ctx.ancestors.add(parts.slice(0, i).join("."));
    }
    if (!ctx.marks.size) ctx.ancestors.clear();
    const root = h("ul", {});
    const container = value !== null && typeof value === "object" && !isBytes(value);
    const entries = container ? Object.entries(value) : [];
    if (!entries.length) root.appendChild(node(null, value, 0, ctx, ""));
    // The top level is always open, so it needs no line of its own.
    for (const [k, v] of entries.slice(0, TREE_CHILD_LIMIT)) root.appendChild(node(k, v, 1, ctx, k));
    if (entries.length > TREE_CHILD_LIMIT) {
      root.appendChild(h("li", { class: "more" }, "… " + number(entries.length - TREE_CHILD_LIMIT) + " more"));
    }
    return h("div", { class: "json" }, root);
  }

  function setTreeOpen(root, open) {
    root.querySelectorAll("details").forEach((d) => {
      d.open = open;
    });
  }

  /* ---- toasts ----------------------------------------------------------------------- */

  function toast(message, options) {
    const opts = options || {};
    let host = document.querySelector(".toasts");
    if (!host) {
      host = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
      document.body.appendChild(host);
    }
    const close = h("button", { class: "btn ghost small", type: "button", "aria-label": "Dismiss" }, "✕");
    const item = h("div", { class: "toast" + (opts.error ? " error" : "") },
      h("span", {}, message), opts.link || null, close);
    close.addEventListener("click", () => item.remove());
    host.appendChild(item);
    setTimeout(() => item.remove(), opts.error ? 12000 : 8000);
  }

  function showError(container, err) {
    clear(container);
    container.hidden = false;
    container.appendChild(document.createTextNode(err && err.message ? err.message : String(err)));
  }

  /* Links written in the templates keep the token too. */
  document.querySelectorAll("a[data-keep-token]").forEach((a) => {
    const url = new URL(a.getAttribute("href"), location.href);
    if (TOKEN) url.searchParams.set("token", TOKEN);
    a.setAttribute("href", url.pathname + url.search);
  });

  window.ER = {
    TOKEN, api, stream, pageUrl, recordingUrl, encodePath, h, s, clear, number, time, resolution,
    duration, offset, bytes, date, palette, preview, debounce, jsonTree, setTreeOpen, toast, showError, ApiError,
  };
})();
