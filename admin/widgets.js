// widgets.js - what the dashboard, report and bounces screens share: numbers
// and times as people read them, a progress bar, bar charts drawn as SVG
// (with a table of the same figures for screen readers and for reading off
// exact values), and polling that stops when its screen is left.
//
// Charts are built with createElementNS and textContent only: no markup
// from strings, no library, no inline style (the CSP forbids it; sizes are
// attributes of the SVG, colours classes in admin.css).

import { el } from "/admin/app.js";

const SVG = "http://www.w3.org/2000/svg";

// num - N with thousands separators ("1,234"); "–" for null
export const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en"));

// pct - PART of WHOLE as a percentage with DIGITS decimals ("12.5%"); "–" when WHOLE is 0
export function pct(part, whole, digits = 1) {
  if (!whole) return "–";
  return `${((100 * part) / whole).toFixed(digits)}%`;
}

// duration - S seconds as "2 h 5 min", "3 min 20 s", "45 s"; "–" for null
export function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(Number(s));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// when - a timestamp from the API as local date and time ("2026-12-04 09:30"); "" for null
export function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

// plural - N and WORD, with an s unless N is 1 ("1 complaint", "2 complaints")
export const plural = (n, word) => `${num(n)} ${word}${Number(n) === 1 ? "" : "s"}`;

// statusBadge - a campaign's or a delivery's state as a labelled badge
export function statusBadge(status) {
  return el("span", { class: `badge badge-${status}` }, status);
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// progress - a bar of a campaign's deliveries by state (sent, failed, skipped or cancelled, deferred,
// queued), with the same said in words for screen readers
export function progress(c) {
  const total = c.total || 0;
  const parts = [
    ["sent", c.sent], ["failed", c.failed], ["skipped", (c.skipped || 0) + (c.cancelled || 0)],
    ["deferred", c.deferred], ["queued", c.queued],
  ];
  const done = (c.sent || 0) + (c.failed || 0) + (c.skipped || 0) + (c.cancelled || 0);
  const words = total === 0 ? "not started: no recipients yet"
    : `${pct(done, total, 0)} done: ${parts.map(([k, v]) => `${num(v)} ${k}`).join(", ")} of ${num(total)}`;
  const bar = el("div", { class: "progress", role: "img", "aria-label": words });
  for (const [k, v] of parts) {
    if (!v || !total) continue;
    const seg = el("span", { class: `seg seg-${k}` });
    seg.style.width = `${(100 * v) / total}%`;
    bar.append(seg);
  }
  return el("div", { class: "progress-wrap" }, bar, el("div", { class: "progress-text muted" }, words));
}

// barChart - a figure with TITLE, one bar per point ({label, value, long}: long is the label in the table
// and the bar's tooltip), the total or a NOTE in the caption, and the figures as a table under a disclosure
export function barChart({ title, points, note, id }) {
  const W = 240, H = 100, top = 14, bottom = 16, left = 2;
  const max = Math.max(0, ...points.map((p) => p.value));
  const total = points.reduce((s, p) => s + p.value, 0);
  const n = points.length || 1;
  const step = (W - left) / n;
  const titleId = `${id}-title`;
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img", "aria-labelledby": titleId, focusable: "false",
  }, svg("title", { id: titleId },
    `${title}: ${num(total)} in all; the most ${num(max)}${max ? ` (${points.find((p) => p.value === max).long})` : ""}`));
  chart.append(svg("line", { x1: left, x2: W, y1: H - bottom, y2: H - bottom, class: "axis" }));
  points.forEach((p, i) => {
    const h = max ? ((H - top - bottom) * p.value) / max : 0;
    const bw = Math.max(Math.min(step * 0.76, 16), 0.5);
    const bar = svg("rect", {
      x: (left + i * step + (step - bw) / 2).toFixed(2), y: (H - bottom - h).toFixed(2),
      width: bw.toFixed(2), height: h.toFixed(2), class: p.value ? "bar" : "bar zero",
    }, svg("title", {}, `${p.long}: ${num(p.value)}`));
    chart.append(bar);
  });
  // the largest value at the top left; the first, middle and last labels under the axis
  chart.append(svg("text", { x: left, y: 10, class: "chart-label" }, `max ${num(max)}`));
  const marks = n > 2 ? [0, Math.floor((n - 1) / 2), n - 1] : [...Array(n).keys()];
  for (const i of marks) {
    if (!points[i]) continue;
    const anchor = i === 0 ? "start" : i === n - 1 ? "end" : "middle";
    const x = i === 0 ? left : i === n - 1 ? W : left + (i + 0.5) * step;
    chart.append(svg("text", { x: x.toFixed(2), y: H - 4, class: "chart-label", "text-anchor": anchor }, points[i].label));
  }
  const table = el("table", { class: "chart-table" },
    el("caption", {}, title),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "When"), el("th", { scope: "col", class: "num" }, "Count"))),
    el("tbody", {}, points.map((p) => el("tr", {}, el("th", { scope: "row" }, p.long), el("td", { class: "num" }, num(p.value))))));
  return el("figure", { class: "chart", id, dataset: { total: String(total) } },
    el("figcaption", {}, el("strong", {}, title), " ", el("span", { class: "muted" }, note ?? `${num(total)} in all`)),
    chart,
    el("details", {}, el("summary", {}, `${title} as a table`), table));
}

// the polls running now, on the root element (data-polls) for whoever checks that a screen left stops its own
let polling = 0;
function countPolls(d) {
  polling += d;
  document.documentElement.dataset.polls = String(polling);
}

// poll - call FN every MS milliseconds while NODE is on the page, until FN answers false; stops for good when
// the screen is left (another route, or the screen drawn again). FN's errors are shown in ERRLINE if given.
export function poll(node, ms, fn, errline) {
  let timer = null;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener("hashchange", stop);
    countPolls(-1);
  };
  const tick = async () => {
    if (stopped) return;
    if (!node.isConnected) return stop();
    let more = true;
    try {
      more = (await fn()) !== false;
      if (errline) errline.textContent = "";
    } catch (e) {
      if (e.sessionEnded) return stop();
      if (errline) errline.textContent = `Could not refresh: ${e.message}`;
    }
    if (more && !stopped && node.isConnected) timer = setTimeout(tick, ms);
    else stop();
  };
  window.addEventListener("hashchange", stop);
  countPolls(1);
  timer = setTimeout(tick, ms);
  return stop;
}
