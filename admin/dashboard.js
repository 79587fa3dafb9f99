// dashboard.js - the landing screen: what needs attention, the campaigns in
// progress with their live progress, rate and ETA, and the last 30 days as
// charts (each with its table). Refreshed every few seconds while it is shown.

import { api, el } from "/admin/app.js";
import { barChart, duration, num, plural, poll, progress, statusBadge, when } from "/admin/widgets.js";

const SERIES = [
  ["sent", "Sent"], ["bounces", "Bounces"], ["complaints", "Complaints"],
  ["unsubscribes", "Unsubscribes"], ["subscribers", "New subscribers"],
];

function warnings(d) {
  if (d.warnings.length === 0)
    return el("p", { class: "all-clear" }, "Nothing needs attention.");
  return el("ul", { class: "warnings" }, d.warnings.map((w) =>
    el("li", { class: `warning warning-${w.code}`, dataset: { code: w.code } },
      el("span", {}, w.message),
      w.campaign ? [" ", el("a", { href: `#/report/${w.campaign}` }, "Open the report")] : null)));
}

function inProgress(d) {
  if (d.campaigns.length === 0)
    return el("p", { class: "empty" }, "No campaign is running, paused or scheduled.");
  return el("div", { class: "table-wrap" }, el("table", { class: "cards progress-table" },
    el("thead", {}, el("tr", {},
      el("th", {}, "Campaign"), el("th", {}, "Status"), el("th", {}, "Progress"),
      el("th", { class: "num" }, "Sent"), el("th", { class: "num" }, "Queued"), el("th", { class: "num" }, "Deferred"),
      el("th", { class: "num" }, "Failed"), el("th", { class: "num" }, "Rate"), el("th", {}, "ETA"))),
    el("tbody", {}, d.campaigns.map((c) => el("tr", { dataset: { campaign: String(c.id) } },
      el("td", { "data-label": "Campaign" }, el("a", { href: `#/report/${c.id}` }, c.name)),
      el("td", { "data-label": "Status" }, statusBadge(c.status)),
      el("td", { "data-label": "Progress", class: "cell-progress" }, progress(c)),
      el("td", { "data-label": "Sent", class: "num" }, num(c.sent)),
      el("td", { "data-label": "Queued", class: "num" }, num(c.queued)),
      el("td", { "data-label": "Deferred", class: "num" }, num(c.deferred)),
      el("td", { "data-label": "Failed", class: "num" }, num(c.failed)),
      el("td", { "data-label": "Rate", class: "num" }, c.rate_per_s === null ? "–" : `${c.rate_per_s}/s`),
      el("td", { "data-label": "ETA" }, c.status === "scheduled" ? `starts ${when(c.send_at)}`
        : c.status === "paused" ? "paused" : duration(c.eta_s)))))));
}

function charts(d) {
  const short = (day) => day.slice(5);   // MM-DD
  return el("div", { class: "charts" }, SERIES.map(([key, title]) => barChart({
    id: `chart-${key}`, title,
    points: d.days.map((x) => ({ label: short(x.day), long: x.day, value: x[key] })),
  })));
}

function totals(d) {
  const t = d.totals;
  return el("p", { class: "muted" },
    `Days in UTC, today last. ${num(t.sent)} sent, ${plural(t.bounces, "bounce")}, ${plural(t.complaints, "complaint")} `,
    `(${t.complaint_rate === null ? "no rate: nothing sent" : `${(100 * t.complaint_rate).toFixed(2)}% of sent`}), `,
    `${plural(t.unsubscribes, "unsubscribe")} through a message's link, ${plural(t.subscribers, "new subscriber")}.`);
}

function senders(d) {
  return el("div", {},
    el("p", {}, `${num(d.relays)} relay${d.relays === 1 ? "" : "s"} configured. `,
      d.senders.length ? `${d.senders.length} sender${d.senders.length === 1 ? "" : "s"} seen in the last minute:`
        : "No sender seen in the last minute."),
    d.senders.length ? el("ul", { class: "senders" }, d.senders.map((s) =>
      el("li", {}, el("strong", {}, s.name), ": ", s.status))) : null);
}

async function render() {
  let d = await api("GET", "/api/v1/dashboard");
  const parts = {
    warnings: el("div", { id: "dash-warnings" }, warnings(d)),
    progress: el("div", { id: "dash-progress" }, inProgress(d)),
    totals: el("div", { id: "dash-totals" }, totals(d)),
    charts: el("div", { id: "dash-charts" }, charts(d)),
    senders: el("div", { id: "dash-senders" }, senders(d)),
  };
  const stamp = el("p", { class: "muted refreshed", "aria-live": "off" }, `Updated ${when(new Date().toISOString())}`);
  const errline = el("p", { class: "form-error", role: "alert" });
  const node = el("section", { class: "dashboard" },
    el("h1", {}, "Dashboard"),
    el("section", { "aria-labelledby": "h-attention" }, el("h2", { id: "h-attention" }, "Needs attention"), parts.warnings),
    el("section", { "aria-labelledby": "h-progress", class: "card" },
      el("h2", { id: "h-progress" }, "Campaigns in progress"), parts.progress),
    el("section", { "aria-labelledby": "h-days", class: "card" },
      el("h2", { id: "h-days" }, "The last 30 days"), parts.totals, parts.charts),
    el("section", { "aria-labelledby": "h-senders", class: "card" },
      el("h2", { id: "h-senders" }, "Relays and senders"), parts.senders),
    errline, stamp);
  // live: every 3 s while a campaign runs, else every 15 s; the charts are redrawn only when their days changed
  let daysSeen = JSON.stringify(d.days);
  const refresh = async () => {
    d = await api("GET", "/api/v1/dashboard");
    parts.warnings.replaceChildren(warnings(d));
    parts.progress.replaceChildren(inProgress(d));
    parts.totals.replaceChildren(totals(d));
    parts.senders.replaceChildren(senders(d));
    if (JSON.stringify(d.days) !== daysSeen) {
      daysSeen = JSON.stringify(d.days);
      parts.charts.replaceChildren(charts(d));
    }
    stamp.textContent = `Updated ${when(new Date().toISOString())}`;
    node.dataset.refreshes = String(Number(node.dataset.refreshes || 0) + 1);
  };
  const running = () => d.campaigns.some((c) => c.status === "running");
  let last = Date.now();
  poll(node, 3000, async () => {
    if (!running() && Date.now() - last < 15000) return;
    last = Date.now();
    await refresh();
  }, errline);
  return node;
}

export const screen = { path: "", title: "Dashboard", render };
