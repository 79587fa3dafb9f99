// providers.js - the Providers screen: the mailbox providers (a named group of
// recipient domains and receiving hosts), what each did with the mail over the
// last 30 days (from Postfix's log and the bounces), which provider an address
// belongs to and why; admins add, change and remove providers. Every action
// is a call of /api/v1/providers, checked by the server as the CLI's are.

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
  const [{ items }, stats] = await Promise.all([api("GET", "/api/v1/providers"), api("GET", "/api/v1/providers/stats")]);
  const admin = me() && me().role === "admin";
  const cols = admin ? 5 : 4;
  const rows = items.map((p) => {
    const row = el("tr", { dataset: { provider: p.name } },
      el("td", { "data-label": "Provider" }, el("strong", {}, p.label || p.name), el("div", { class: "muted" }, p.name)),
      el("td", { "data-label": "Domains" }, el("span", { class: "patterns" }, p.domains.join(", ") || "–")),
      el("td", { "data-label": "Receiving hosts" }, el("span", { class: "patterns" }, p.mx.join(", ") || "–")),
      el("td", { "data-label": "Learned", class: "num" }, num(p.learned)),
      admin ? el("td", {}, el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", onclick: () => editRow(row, p, cols) }, "Edit"),
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
        el("th", { class: "num" }, "Learned"), admin ? el("th", {}, el("span", { class: "muted" }, "Actions")) : null)),
      el("tbody", {}, rows))),
    admin ? el("section", { class: "card" }, el("h2", {}, "Add a provider"), addForm()) : null);
}

export const screen = { path: "providers", title: "Providers", render };
