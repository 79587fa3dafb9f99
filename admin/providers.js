// providers.js - the Providers screen: the mailbox providers (a named group of
// recipient domains and receiving hosts), what each did with the mail over the
// last 30 days (from Postfix's log and the bounces), which provider an address
// belongs to and why; each provider's pace and whether it is slowed now (its
// halvings with their reasons); the warm-ups, today's cap, what was sent and
// what waits; admins add, change and remove providers, set their pace, and
// set and remove warm-ups. Every action is a call of /api/v1/providers,
// /api/v1/warmups, checked by the server as the CLI's are.

import { api, el, field, me, onSubmit, rerender, toast } from "/admin/app.js";
import { confirmBox } from "/admin/upload.js";
import { num } from "/admin/widgets.js";

// the lines of a textarea as a list of patterns
const lines = (text) => (text || "").split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

const secs = (s) => (s === null || s === undefined ? "–" : `${s} s`);

// providerTable - counts by provider (GET /campaigns/{id}/providers' or summed days), as a table
export function providerTable(rows, cls) {
  if (rows.length === 0) return el("p", { class: "empty" }, "Nothing from Postfix's log or the bounces yet.");
  const b = (r, k) => num(r.bounces[k]);
  return el("div", { class: "table-wrap" }, el("table", { class: `cards ${cls}` },
    el("thead", {}, el("tr", {}, el("th", {}, "Provider"),
      ["Delivered", "Deferred", "Deferrals", "Bounced (log)", "Hard", "Soft", "Policy", "Complaints", "Median", "95th pct."]
        .map((h) => el("th", { class: "num" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", { dataset: { provider: r.provider } },
      el("td", { "data-label": "Provider" }, r.label || r.provider),
      el("td", { "data-label": "Delivered", class: "num" }, num(r.delivered)),
      el("td", { "data-label": "Deferred", class: "num" }, num(r.deferred)),
      el("td", { "data-label": "Deferrals", class: "num" }, num(r.deferrals)),
      el("td", { "data-label": "Bounced (log)", class: "num" }, num(r.bounced + r.expired)),
      el("td", { "data-label": "Hard", class: "num" }, b(r, "hard")),
      el("td", { "data-label": "Soft", class: "num" }, b(r, "soft")),
      el("td", { "data-label": "Policy", class: "num" }, b(r, "policy")),
      el("td", { "data-label": "Complaints", class: "num" }, num(r.complaints)),
      el("td", { "data-label": "Median to delivery", class: "num" }, secs(r.delivery_s.median)),
      el("td", { "data-label": "95th pct. to delivery", class: "num" }, secs(r.delivery_s.p95)))))));
}

// the days of /providers/stats summed by provider (the times: the worst day's, as a sum cannot be had)
function sumDays(days) {
  const by = new Map();
  for (const d of days) {
    const s = by.get(d.provider) || { provider: d.provider, label: d.label, delivered: 0, deferred: 0, deferrals: 0,
      bounced: 0, expired: 0, complaints: 0, bounces: { hard: 0, soft: 0, policy: 0, unknown: 0 },
      delivery_s: { median: null, p95: null } };
    for (const k of ["delivered", "deferred", "deferrals", "bounced", "expired", "complaints"]) s[k] += d[k];
    for (const k of Object.keys(s.bounces)) s.bounces[k] += d.bounces[k];
    for (const k of ["median", "p95"]) {
      if (d.delivery_s[k] !== null && (s.delivery_s[k] === null || d.delivery_s[k] > s.delivery_s[k])) s.delivery_s[k] = d.delivery_s[k];
    }
    by.set(d.provider, s);
  }
  return [...by.values()].sort((a, b) => (a.provider === "other") - (b.provider === "other") || b.delivered - a.delivered
    || a.provider.localeCompare(b.provider));
}

function matchForm() {
  const out = el("div", { class: "match-out", "aria-live": "polite" });
  const form = el("form", { class: "stack", novalidate: true, "aria-label": "Which provider" },
    el("div", { class: "row" },
      field({ label: "Address or domain", name: "target", required: true, hint: "ann@gmail.com, or example.org" }),
      field({ label: "Receiving host", name: "mx", hint: "optional: a host name, or relay= as Postfix logs it" })),
    el("div", {}, el("button", { type: "submit" }, "Find the provider")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const q = new URLSearchParams({ target: v.target });
    if (v.mx) q.set("mx", v.mx);
    const m = await api("GET", `/api/v1/providers/match?${q}`);
    out.replaceChildren(el("p", { class: "match-why" }, el("strong", {}, m.label || m.provider), ` — ${m.why}`));
  });
  return el("div", {}, form, out);
}

// the fields of a provider's form (PROVIDER: its values, or none for a new one)
function providerFields(p) {
  return [
    el("div", { class: "row" },
      p ? null : field({ label: "Name", name: "name", required: true, hint: "a-z, 0-9 and -, as /metrics labels it" }),
      field({ label: "Label", name: "label", value: p ? p.label : "", hint: "as screens show it" })),
    el("div", { class: "row" },
      field({ label: "Recipient domains", name: "domains", type: "textarea", rows: 3, value: p ? p.domains.join("\n") : "",
        hint: "one a line: gmail.com, or hotmail.* for hotmail under any suffix" }),
      field({ label: "Receiving hosts", name: "mx", type: "textarea", rows: 3, value: p ? p.mx.join("\n") : "",
        hint: "one a line: *.google.com ('*' is any characters)" })),
  ];
}

// a provider's pace in words: its limits, and the rate in force when slowed
export function paceText(pace) {
  const lim = [pace.per_minute ? `${num(pace.per_minute)}/min` : null, pace.per_hour ? `${num(pace.per_hour)}/h` : null]
    .filter(Boolean).join(", ") || "no limit";
  return pace.slowed ? `${lim}; slowed to ${num(pace.rate_per_minute)}/min` : lim;
}

const when = (t) => (t ? t.replace("T", " ").slice(0, 19) : "–");

// the halvings and returns to full pace of PROVIDERS (each with its pace), latest first
function paceEvents(providers) {
  const ev = providers.flatMap((p) => p.pace.events.map((e) => ({ ...e, provider: p.label || p.name })))
    .sort((a, b) => (a.at < b.at) - (a.at > b.at));
  if (ev.length === 0) return el("p", { class: "empty" }, "No provider was slowed down.");
  return el("div", { class: "table-wrap" }, el("table", { class: "cards pace-events" },
    el("thead", {}, el("tr", {}, ["When (UTC)", "Provider", "What", "Rate deferrals", "Why"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ev.map((e) => el("tr", {},
      el("td", { "data-label": "When (UTC)" }, when(e.at)),
      el("td", { "data-label": "Provider" }, e.provider),
      el("td", { "data-label": "What" }, e.kind === "halved" ? `halved ${num(e.rate_from)} → ${num(e.rate_to)}/min`
        : `back to full pace (${num(e.rate_to)}/min)`),
      el("td", { "data-label": "Rate deferrals", class: "num" }, e.kind === "halved" ? num(e.deferrals) : "–"),
      el("td", { "data-label": "Why" }, el("span", { class: "patterns" }, e.reason || "no rate deferral for a minute")))))));
}

function paceRow(row, p, cols) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("edit-row")) return;
  const form = el("form", { class: "stack", novalidate: true, "aria-label": `Pace of ${p.name}` },
    el("div", { class: "row" },
      field({ label: "Per minute", name: "per_minute", value: p.pace.per_minute || "", hint: "empty: no limit" }),
      field({ label: "Per hour", name: "per_hour", value: p.pace.per_hour || "", hint: "empty: no limit" }),
      field({ label: "Slow down after", name: "aimd_threshold", value: p.pace.aimd_threshold, hint: "rate deferrals" }),
      field({ label: "Within", name: "aimd_window_s", value: p.pace.aimd_window_s, hint: "seconds" })),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Save pace"),
      p.pace.slowed ? el("button", { type: "button", class: "secondary", onclick: async () => {
        await api("PATCH", `/api/v1/providers/${encodeURIComponent(p.name)}/pace`, { reset: true });
        toast(`${p.name} is back to full pace.`);
        rerender();
      } }, "Back to full pace") : null,
      el("button", { type: "button", class: "secondary", onclick: () => tr.remove() }, "Cancel")),
    el("div", { class: "form-error", role: "alert" }));
  const tr = el("tr", { class: "edit-row" }, el("td", { colspan: cols }, form));
  const n = (v) => (v === "" ? null : Number(v));
  onSubmit(form, async (v) => {
    await api("PATCH", `/api/v1/providers/${encodeURIComponent(p.name)}/pace`, { per_minute: n(v.per_minute),
      per_hour: n(v.per_hour), aimd_threshold: Number(v.aimd_threshold), aimd_window_s: Number(v.aimd_window_s) });
    toast(`Pace of ${p.name} saved.`);
    rerender();
  });
  row.after(tr);
  form.querySelector("input").focus();
}

// the warm-ups: today's cap and count, tomorrow's, what waits; admins set and remove them
function warmups(items, curves, admin) {
  const cap = (v) => (v === null ? "no cap" : num(v));
  const rows = items.map((w) => el("tr", { dataset: { target: w.target } },
    el("td", { "data-label": "Sending domain or relay" }, el("strong", {}, w.target),
      w.curve ? el("div", { class: "muted" }, `curve ${w.curve}`) : null),
    el("td", { "data-label": "Day" }, w.done ? `done (${w.days.length} days)` : `${w.day} of ${w.days.length}`),
    el("td", { "data-label": "Today's cap", class: "num" }, cap(w.cap_today)),
    el("td", { "data-label": "Sent today", class: "num" }, num(w.sent_today)),
    el("td", { "data-label": "Tomorrow", class: "num" }, cap(w.cap_tomorrow)),
    el("td", { "data-label": "Waiting" }, w.waiting > 0 ? `${num(w.waiting)} until ${when(w.waiting_until)}` : "none"),
    admin ? el("td", {}, el("button", { type: "button", class: "danger", onclick: async () => {
      await api("DELETE", `/api/v1/warmups/${encodeURIComponent(w.target)}`);
      toast(`Warm-up for ${w.target} removed: what waited for it may go.`);
      rerender();
    } }, "Remove")) : null));
  const table = items.length === 0 ? el("p", { class: "empty" }, "No warm-up: every sending domain and relay sends at will.")
    : el("div", { class: "table-wrap" }, el("table", { class: "cards warmups-table" },
      el("thead", {}, el("tr", {}, ["Sending domain or relay", "Day", "Today's cap", "Sent today", "Tomorrow", "Waiting"]
        .map((h, i) => el("th", { class: i >= 2 && i <= 4 ? "num" : null }, h)),
        admin ? el("th", {}, el("span", { class: "muted" }, "Actions")) : null)),
      el("tbody", {}, rows)));
  let form = null;
  if (admin) {
    form = el("form", { class: "stack", novalidate: true, "aria-label": "Set a warm-up" },
      el("div", { class: "row" },
        field({ label: "Sending domain or relay", name: "target", required: true, hint: "news.example.com, or relay:NAME" }),
        field({ label: "Daily caps", name: "days", hint: "50,100,500,… (or a curve)" }),
        field({ label: "Curve", name: "curve", options: [["", "–"], ...curves.map((c) => [c.name,
          `${c.name} (${c.days.slice(0, 3).join(", ")}, … ${num(c.days[c.days.length - 1])})`])] }),
        field({ label: "Day 1", name: "start", hint: "YYYY-MM-DD (default today, UTC)" })),
      el("div", {}, el("button", { type: "submit" }, "Set warm-up")),
      el("div", { class: "form-error", role: "alert" }));
    onSubmit(form, async (v) => {
      const body = {};
      if (v.days) body.days = v.days;
      if (v.curve) body.curve = v.curve;
      if (v.start) body.start = v.start;
      await api("PUT", `/api/v1/warmups/${encodeURIComponent(v.target)}`, body);
      toast(`Warm-up for ${v.target} set.`);
      rerender();
    });
  }
  return el("section", { class: "card", "aria-labelledby": "h-warmups" },
    el("h2", { id: "h-warmups" }, "Warm-up"),
    el("p", { class: "muted" }, "Daily caps that grow, for every sender together; what is over today's cap waits for "
      + "the next UTC day."), table, form);
}

function editRow(row, p, cols) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("edit-row")) return;
  const form = el("form", { class: "stack", novalidate: true, "aria-label": `Change ${p.name}` }, ...providerFields(p),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Save"),
      el("button", { type: "button", class: "secondary", onclick: () => tr.remove() }, "Cancel")),
    el("div", { class: "form-error", role: "alert" }));
  const tr = el("tr", { class: "edit-row" }, el("td", { colspan: cols }, form));
  onSubmit(form, async (v) => {
    await api("PATCH", `/api/v1/providers/${encodeURIComponent(p.name)}`,
      { label: v.label, domains: lines(v.domains), mx: lines(v.mx) });
    toast(`Provider ${p.name} changed.`);
    rerender();
  });
  row.after(tr);
  form.querySelector("input, textarea").focus();
}

function addForm() {
  const form = el("form", { class: "stack", novalidate: true, "aria-label": "New provider" }, ...providerFields(null),
    el("div", {}, el("button", { type: "submit" }, "Add provider")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const body = { name: v.name, domains: lines(v.domains), mx: lines(v.mx) };
    if (v.label) body.label = v.label;
    await api("POST", "/api/v1/providers", body);
    toast(`Provider ${v.name} added.`);
    rerender();
  });
  return form;
}

async function render() {
  const [{ items }, stats, wu, cv] = await Promise.all([api("GET", "/api/v1/providers"),
    api("GET", "/api/v1/providers/stats"), api("GET", "/api/v1/warmups"), api("GET", "/api/v1/warmup-curves")]);
  const admin = me() && me().role === "admin";
  const cols = admin ? 6 : 5;
  const rows = items.map((p) => {
    const row = el("tr", { dataset: { provider: p.name } },
      el("td", { "data-label": "Provider" }, el("strong", {}, p.label || p.name), el("div", { class: "muted" }, p.name)),
      el("td", { "data-label": "Domains" }, el("span", { class: "patterns" }, p.domains.join(", ") || "–")),
      el("td", { "data-label": "Receiving hosts" }, el("span", { class: "patterns" }, p.mx.join(", ") || "–")),
      el("td", { "data-label": "Learned", class: "num" }, num(p.learned)),
      el("td", { "data-label": "Pace", class: p.pace.slowed ? "pace slowed" : "pace" }, paceText(p.pace)),
      admin ? el("td", {}, el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", onclick: () => editRow(row, p, cols) }, "Edit"),
        el("button", { type: "button", class: "secondary", onclick: () => paceRow(row, p, cols) }, "Pace"),
        el("button", { type: "button", class: "danger", onclick: () => {
          const nx = row.nextElementSibling;
          if (nx && nx.classList.contains("confirm-row")) return;
          const box = confirmBox(`Remove ${p.label || p.name}? Its deliveries count as other from then on.`, "Remove", async () => {
            await api("DELETE", `/api/v1/providers/${encodeURIComponent(p.name)}`);
            toast(`Provider ${p.name} removed.`);
            rerender();
          });
          const tr = el("tr", { class: "confirm-row" }, el("td", { colspan: cols }, box));
          row.after(tr);
          box.querySelector("button.secondary").addEventListener("click", () => tr.remove());
          box.querySelector("button").focus();
        } }, "Remove"))) : null);
    return row;
  });
  return el("section", { class: "providers" },
    el("h1", {}, "Mailbox providers"),
    el("p", { class: "muted" }, "A delivery belongs to the provider of its recipient's domain, else of the receiving host "
      + "Postfix's log shows taking it (a domain so seen is learned, and known before the next message to it), else to "
      + "none (other)."),
    el("section", { class: "card", "aria-labelledby": "h-prov-days" },
      el("h2", { id: "h-prov-days" }, `Last 30 days (${stats.since} to ${stats.until}, UTC)`),
      providerTable(sumDays(stats.days), "provider-days")),
    el("section", { class: "card", "aria-labelledby": "h-prov-match" },
      el("h2", { id: "h-prov-match" }, "Which provider?"), matchForm()),
    el("div", { class: "table-wrap" }, el("table", { class: "cards providers-table" },
      el("thead", {}, el("tr", {}, el("th", {}, "Provider"), el("th", {}, "Domains"), el("th", {}, "Receiving hosts"),
        el("th", { class: "num" }, "Learned"), el("th", {}, "Pace"),
        admin ? el("th", {}, el("span", { class: "muted" }, "Actions")) : null)),
      el("tbody", {}, rows))),
    el("section", { class: "card", "aria-labelledby": "h-pace-events" },
      el("h2", { id: "h-pace-events" }, "Slowed down"),
      el("p", { class: "muted" }, "A provider whose deferrals for rate or reputation reach its threshold is halved, then "
        + "raised by a tenth a minute without one."), paceEvents(items)),
    warmups(wu.items, cv.items, admin),
    admin ? el("section", { class: "card" }, el("h2", {}, "Add a provider"), addForm()) : null);
}

export const screen = { path: "providers", title: "Providers", render };
