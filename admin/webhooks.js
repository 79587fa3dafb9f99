// webhooks.js - the Webhooks screen (admins): the endpoints with their state
// (enabled, or disabled and why: by hand, or after failing), how many events
// wait for each, add one (the secret made by the server is shown here once),
// test, enable or disable, remove; and an endpoint's delivery log with each
// attempt's status, latency and error, an event replayed from it. Every action
// is a call of /api/v1/webhooks, checked by the server as the CLI's are.

import { api, el, field, onSubmit, rerender, toast } from "/admin/app.js";
import { confirmBox, copyButton } from "/admin/upload.js";
import { when } from "/admin/widgets.js";

const EVENTS = [
  ["Subscribers", ["subscriber.created", "subscriber.updated", "subscriber.confirmed", "subscriber.unsubscribed",
    "subscriber.erased"]],
  ["Deliveries", ["delivery.sent", "delivery.deferred", "delivery.failed"]],
  ["Bounces", ["bounce.recorded", "complaint.recorded"]],
  ["Tracking", ["email.opened", "email.clicked"]],
  ["Campaigns and imports", ["campaign.started", "campaign.paused", "campaign.finished", "import.finished"]],
];

// a confirmation under table row ROW (COLS wide)
function confirmRow(row, cols, message, yes, doit) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("confirm-row")) return;
  const box = confirmBox(message, yes, doit);
  const tr = el("tr", { class: "confirm-row" }, el("td", { colspan: cols }, box));
  row.after(tr);
  box.querySelector("button").focus();
  box.querySelector("button.secondary").addEventListener("click", () => tr.remove());
}

function stateCell(w) {
  if (w.enabled) {
    return el("div", {}, el("span", { class: "badge st-enabled" }, "enabled"),
      w.failures ? el("div", { class: "muted" }, `${w.failures} failed in a row`) : null);
  }
  return el("div", {}, el("span", { class: "badge dl-failed" }, "disabled"),
    el("div", { class: "hook-reason" }, w.disabled_reason || "disabled"));
}

// what a test answered
function testResult(t) {
  const what = t.ok ? `HTTP ${t.status} in ${t.latency_ms} ms: the endpoint works.`
    : t.status ? `HTTP ${t.status} in ${t.latency_ms} ms${t.error ? `: ${t.error}` : ""}` : t.error;
  return el("div", { class: `relay-test ${t.ok ? "ok" : "failed"}`, role: "status" }, el("p", {}, el("strong", {}, what)));
}

function addForm() {
  const boxes = EVENTS.map(([group, names]) => el("fieldset", { class: "hook-events" }, el("legend", {}, group),
    el("div", { class: "checks" }, names.map((n) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: `ev:${n}`, value: "1" }), el("code", {}, n))))));
  const made = el("div", { class: "hook-secret", "aria-live": "polite" });
  const form = el("form", { class: "stack", novalidate: true, "aria-label": "New webhook" },
    field({ label: "URL", name: "url", required: true, hint: "https://… where the application receives the events" }),
    el("div", { class: "field", dataset: { field: "events" } }, el("span", { class: "label" }, "Events"), ...boxes,
      el("div", { class: "error", "aria-live": "polite" })),
    el("div", { class: "row" },
      field({ label: "Description", name: "description", hint: "for whom, what for" }),
      field({ label: "Secret", name: "secret", type: "password", autocomplete: "new-password",
        hint: "whsec_…; empty: one is made and shown once" })),
    el("div", {}, el("button", { type: "submit" }, "Add webhook")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const events = Object.keys(v).filter((k) => k.startsWith("ev:")).map((k) => k.slice(3));
    const body = { url: v.url, events };
    if (v.description) body.description = v.description;
    if (v.secret) body.secret = v.secret;
    const w = await api("POST", "/api/v1/webhooks", body);
    toast(`Webhook ${w.id} added.`);
    if (w.secret) {
      const text = el("input", { readonly: true, value: w.secret, "aria-label": "The webhook's secret", class: "record" });
      made.replaceChildren(el("div", { class: "card" },
        el("p", {}, el("strong", {}, "The endpoint's signing secret, shown this once:"),
          " give it to the receiving application now; no screen shows it again."),
        text, el("div", { class: "actions" }, copyButton("Copy secret", w.secret, text),
          el("button", { type: "button", class: "secondary", onclick: () => rerender() }, "Done"))));
      form.reset();
      text.focus();
    } else {
      rerender();
    }
  });
  return el("div", {}, made, form);
}

async function listView() {
  const { items } = await api("GET", "/api/v1/webhooks");
  const rows = items.map((w) => {
    const out = el("div", { class: "test-out" });
    const row = el("tr", { dataset: { webhook: String(w.id) }, class: w.enabled ? "" : "disabled" },
      el("td", { "data-label": "Endpoint" }, el("a", { href: `#/webhooks/${w.id}` }, el("code", { class: "hook-url" }, w.url)),
        w.description ? el("div", { class: "muted" }, w.description) : null),
      el("td", { "data-label": "Events" }, el("span", { class: "hook-events-list" }, w.events.join(", "))),
      el("td", { "data-label": "State" }, stateCell(w)),
      el("td", { "data-label": "Waiting", class: "num" }, String(w.queued), w.dead ? el("div", { class: "muted" }, `${w.dead} dead`) : null),
      el("td", { "data-label": "Last success" }, w.last_success_at ? when(w.last_success_at) : el("span", { class: "muted" }, "none yet")),
      el("td", {}, el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", onclick: async (ev) => {
          ev.target.disabled = true;
          out.replaceChildren(el("p", { class: "muted" }, "Sending a test event…"));
          try {
            out.replaceChildren(testResult(await api("POST", `/api/v1/webhooks/${w.id}/test`)));
          } catch (e) {
            out.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message));
          } finally {
            ev.target.disabled = false;
          }
        } }, "Test"),
        el("a", { class: "button secondary", href: `#/webhooks/${w.id}` }, "Log"),
        el("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            await api("PATCH", `/api/v1/webhooks/${w.id}`, { enabled: !w.enabled });
            toast(`Webhook ${w.id} ${w.enabled ? "disabled" : "enabled"}.`);
            rerender();
          } catch (e) {
            if (!e.sessionEnded) toast(e.message);
          }
        } }, w.enabled ? "Disable" : "Enable"),
        el("button", { type: "button", class: "danger", onclick: () => confirmRow(row, 6,
          `Remove the webhook to ${w.url}? Its ${w.queued} waiting events and its log go with it.`, "Remove", async () => {
            await api("DELETE", `/api/v1/webhooks/${w.id}`);
            toast(`Webhook ${w.id} removed.`);
            rerender();
          }) }, "Remove"))));
    return [row, el("tr", { class: "test-row" }, el("td", { colspan: 6 }, out))];
  });
  return el("section", { class: "webhooks" },
    el("h1", {}, "Webhooks"),
    el("p", { class: "muted" }, "Signed HTTP callbacks (Standard Webhooks) of what happens, each written in the same "
      + "transaction as the change it reports and delivered at least once, in order per subscriber."),
    items.length === 0 ? el("p", { class: "empty" }, "No webhook yet.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards webhooks-table" },
        el("thead", {}, el("tr", {}, ["Endpoint", "Events", "State"].map((h) => el("th", {}, h)),
          el("th", { class: "num" }, "Waiting"), el("th", {}, "Last success"),
          el("th", {}, el("span", { class: "muted" }, "Actions")))),
        el("tbody", {}, rows.flat()))),
    el("section", { class: "card" }, el("h2", {}, "Add a webhook"), addForm()));
}

async function logView(id) {
  const w = await api("GET", `/api/v1/webhooks/${encodeURIComponent(id)}`);
  const { items } = await api("GET", `/api/v1/webhooks/${encodeURIComponent(id)}/log?limit=100`);
  const rows = items.map((a) => el("tr", { class: a.ok ? "" : "failed", dataset: { attempt: String(a.id) } },
    el("td", { "data-label": "At" }, when(a.at)),
    el("td", { "data-label": "Event" }, a.event_id ? String(a.event_id) : el("span", { class: "muted" }, "test"),
      " ", el("code", {}, a.type)),
    el("td", { "data-label": "Status", class: "num" }, a.status === null ? "none" : String(a.status)),
    el("td", { "data-label": "Latency", class: "num" }, `${a.latency_ms} ms`),
    el("td", { "data-label": "Error" }, a.error || ""),
    el("td", { "data-label": "Event state" }, a.event_state || "",
      a.event_state === "queued" && a.next_attempt_at ? el("div", { class: "muted" }, `next ${when(a.next_attempt_at)}`) : null),
    el("td", {}, a.event_id ? el("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        const r = await api("POST", `/api/v1/webhooks/${w.id}/replay`, { event_id: a.event_id });
        toast(r.queued ? `Event ${a.event_id} queued again.` : `Event ${a.event_id} is being sent right now.`);
      } catch (e) {
        if (!e.sessionEnded) toast(e.message);
      }
    } }, "Replay") : null)));
  return el("section", { class: "webhooks" },
    el("p", {}, el("a", { href: "#/webhooks" }, "← Webhooks")),
    el("h1", {}, `Webhook ${w.id}`),
    el("dl", { class: "facts" },
      el("dt", {}, "URL"), el("dd", {}, el("code", { class: "hook-url" }, w.url)),
      el("dt", {}, "State"), el("dd", {}, stateCell(w)),
      el("dt", {}, "Events"), el("dd", {}, w.events.join(", ")),
      el("dt", {}, "Waiting"), el("dd", {}, `${w.queued} queued, ${w.dead} dead`)),
    el("h2", {}, "Delivery log"),
    items.length === 0 ? el("p", { class: "empty" }, "Nothing sent yet.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards hook-log" },
        el("thead", {}, el("tr", {}, el("th", {}, "At"), el("th", {}, "Event"), el("th", { class: "num" }, "Status"),
          el("th", { class: "num" }, "Latency"), el("th", {}, "Error"), el("th", {}, "Event state"),
          el("th", {}, el("span", { class: "muted" }, "Actions")))),
        el("tbody", {}, rows))));
}

async function render(args) {
  try {
    return args[0] ? await logView(args[0]) : await listView();
  } catch (e) {
    if (e.status === 403) {
      const err = new Error("Webhooks are for administrators: the server refused them to your account (403 forbidden).");
      err.status = 403;
      throw err;
    }
    throw e;
  }
}

export const screen = { path: "webhooks", title: "Webhooks", render, adminOnly: true };
