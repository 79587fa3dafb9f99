// bounces.js - what came back (#/bounces): listed newest first by class and
// campaign, in pages, a sender-side refusal (class policy) marked as a sending
// problem and an unverified report as not acted on; the reports kept as no
// bounce (auto-replies, delay warnings, bounces naming no delivery) with what
// they say; one bounce (#/bounces/ID) with the fields read from it and the
// report as received, as text; the rules that classify reports, and what the
// policy does per class (as `postino bounce rules` and `postino bounce policy`
// show them; they are changed with those commands).

import { api, el, field, onSubmit } from "/admin/app.js";
import { num, when } from "/admin/widgets.js";

const PAGE = 50;
const CLASSES = ["hard", "soft", "complaint", "policy", "unknown"];

// the list's filters, kept while the screen is left and come back to
const filters = { cls: "", campaign: "" };

function classBadge(c) {
  return el("span", { class: `badge badge-class-${c}` }, c);
}

const SENDING = "a sending problem: the receiver refused the sender, not the recipient";
const UNVERIFIED = "no valid VERP token and not from a trusted path: recorded, never acted on";

function classCell(b) {
  return [classBadge(b.class), b.sending_problem ? " " : null, b.sending_problem ? el("span", { class: "badge note-sending", title: SENDING }, "sending problem") : null];
}

function actionCell(b) {
  return [b.action || "–", b.unverified ? " " : null, b.unverified ? el("span", { class: "badge note-unverified", title: UNVERIFIED }, "unverified") : null];
}

function bounceRow(b) {
  return el("tr", { dataset: { bounce: String(b.id) } },
    el("td", { "data-label": "Received" }, el("a", { href: `#/bounces/${b.id}` }, when(b.received_at))),
    el("td", { "data-label": "Email" }, b.email),
    el("td", { "data-label": "Class" }, classCell(b)),
    el("td", { "data-label": "Status" }, b.status || "–"),
    el("td", { "data-label": "Diagnostic", class: "reply" }, b.diagnostic || ""),
    el("td", { "data-label": "Campaign" }, b.campaign_id ? el("a", { href: `#/report/${b.campaign_id}` }, String(b.campaign_id)) : "–"),
    el("td", { "data-label": "Action" }, actionCell(b)),
    el("td", { "data-label": "Source" }, b.source));
}

function unmatchedRow(u) {
  return el("tr", { dataset: { unmatched: String(u.id) } },
    el("td", { "data-label": "Received" }, when(u.received_at)),
    el("td", { "data-label": "What it is" }, u.class ? classBadge(u.class) : el("span", { class: "muted" }, "not a report")),
    el("td", { "data-label": "Email" }, u.email || "–"),
    el("td", { "data-label": "Status" }, u.status || "–"),
    el("td", { "data-label": "Why kept apart" }, u.reason),
    el("td", { "data-label": "Subject", class: "reply" }, u.subject || ""));
}

// the reports recorded as no bounce, newest first, in pages
function unmatchedPart() {
  const body = el("tbody");
  const more = el("button", { type: "button", class: "secondary", hidden: true }, "Older reports");
  const empty = el("p", { class: "empty", hidden: true }, "Nothing kept apart.");
  const table = el("table", { class: "cards unmatched" },
    el("thead", {}, el("tr", {}, el("th", {}, "Received"), el("th", {}, "What it is"), el("th", {}, "Email"),
      el("th", {}, "Status"), el("th", {}, "Why kept apart"), el("th", {}, "Subject"))),
    body);
  let before = 0;
  const load = async (fresh) => {
    if (fresh) before = 0;
    const q = new URLSearchParams({ unmatched: "true", limit: String(PAGE) });
    if (before) q.set("before", String(before));
    const { items } = await api("GET", `/api/v1/bounces?${q}`);
    if (fresh) body.replaceChildren(...items.map(unmatchedRow));
    else body.append(...items.map(unmatchedRow));
    if (items.length) before = items[items.length - 1].id;
    more.hidden = items.length < PAGE;
    table.hidden = body.children.length === 0;
    empty.hidden = body.children.length > 0;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try { await load(false); } finally { more.disabled = false; }
  });
  return { node: el("div", {}, el("div", { class: "table-wrap" }, table), empty, more), load };
}

function listPart() {
  const body = el("tbody");
  const more = el("button", { type: "button", class: "secondary", hidden: true }, "Older bounces");
  const empty = el("p", { class: "empty", hidden: true }, "No bounces match.");
  const count = el("p", { class: "muted", "aria-live": "polite" });
  const table = el("table", { class: "cards bounces" },
    el("thead", {}, el("tr", {}, el("th", {}, "Received"), el("th", {}, "Email"), el("th", {}, "Class"),
      el("th", {}, "Status"), el("th", {}, "Diagnostic"), el("th", {}, "Campaign"), el("th", {}, "Action"),
      el("th", {}, "Source"))),
    body);
  let before = 0;
  const load = async (fresh) => {
    if (fresh) before = 0;
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (filters.cls) q.set("class", filters.cls);
    if (filters.campaign) q.set("campaign", filters.campaign);
    if (before) q.set("before", String(before));
    const { items } = await api("GET", `/api/v1/bounces?${q}`);
    if (fresh) body.replaceChildren(...items.map(bounceRow));
    else body.append(...items.map(bounceRow));
    if (items.length) before = items[items.length - 1].id;
    more.hidden = items.length < PAGE;
    table.hidden = body.children.length === 0;
    empty.hidden = body.children.length > 0;
    count.textContent = `${num(body.children.length)} shown${more.hidden ? "" : "; older ones follow"}.`;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try { await load(false); } finally { more.disabled = false; }
  });
  const form = el("form", { class: "row", novalidate: true, "aria-label": "Filter bounces" },
    field({ label: "Class", name: "class", value: filters.cls,
      options: [["", "any class"], ...CLASSES.map((c) => [c, c])] }),
    field({ label: "Campaign number", name: "campaign", value: filters.campaign, type: "number",
      attrs: { min: 1, inputmode: "numeric" } }),
    el("button", { type: "submit" }, "Show"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    filters.cls = v.class || "";
    filters.campaign = (v.campaign || "").trim();
    await load(true);
  });
  return { node: el("div", {}, form, count, el("div", { class: "table-wrap" }, table), empty, more), load };
}

function rulesTable(rules) {
  return el("div", { class: "table-wrap" }, el("table", { class: "cards rules" },
    el("thead", {}, el("tr", {}, el("th", { class: "num" }, "Position"), el("th", {}, "Class"), el("th", {}, "Over a code"),
      el("th", {}, "Pattern"), el("th", {}, "What it means"))),
    el("tbody", {}, rules.map((r) => el("tr", {},
      el("td", { "data-label": "Position", class: "num" }, String(r.position)),
      el("td", { "data-label": "Class" }, classBadge(r.class)),
      el("td", { "data-label": "Over a code" }, r.beats_code ? "decides" : "only without one"),
      el("td", { "data-label": "Pattern" }, el("code", { class: "pattern" }, r.pattern)),
      el("td", { "data-label": "What it means" }, r.description))))));
}

function policyTable(policy) {
  const act = { none: "nothing", disable: "disable the subscriber", unsubscribe: "unsubscribe from every list",
    blocklist: "blocklist (and unsubscribe)", delete: "delete the subscriber" };
  return el("div", { class: "table-wrap" }, el("table", { class: "cards policy" },
    el("thead", {}, el("tr", {}, el("th", {}, "Class"), el("th", {}, "After"), el("th", {}, "Then"))),
    el("tbody", {}, policy.map((p) => el("tr", { dataset: { cls: p.class } },
      el("td", { "data-label": "Class" }, classBadge(p.class)),
      el("td", { "data-label": "After" }, `${num(p.threshold)} bounce${p.threshold === 1 ? "" : "s"}`,
        p.consecutive ? " in a row (a delivery that got through resets it)" : " in all"),
      el("td", { "data-label": "Then" }, p.class === "policy" ? `nothing, ever (${SENDING})` : act[p.action] || p.action))))));
}

async function list() {
  const part = listPart();
  const apart = unmatchedPart();
  const [rules, policy] = await Promise.all([api("GET", "/api/v1/bounce-rules"), api("GET", "/api/v1/bounce-policy"),
    part.load(true), apart.load(true)]);
  return el("section", { class: "bounces-screen" },
    el("h1", {}, "Bounces"),
    el("section", { class: "card", "aria-labelledby": "h-list" }, el("h2", { id: "h-list" }, "What came back"), part.node),
    el("section", { class: "card", "aria-labelledby": "h-apart" }, el("h2", { id: "h-apart" }, "Kept apart"),
      el("p", { class: "muted" }, "Auto-replies, delay warnings, other mail, and bounces that name no delivery: ",
        "recorded with what they say, never acted on."),
      apart.node),
    el("section", { class: "card", "aria-labelledby": "h-policy" }, el("h2", { id: "h-policy" }, "Policy"),
      el("p", { class: "muted" }, "What happens to a subscriber after bounces of each class. Change it with postino bounce policy."),
      policyTable(policy.items)),
    el("section", { class: "card", "aria-labelledby": "h-rules" }, el("h2", { id: "h-rules" }, "Classification rules"),
      el("p", { class: "muted" }, "A report is classified by the first rule whose pattern ",
        "(a case-insensitive regular expression) matches its text when its status code is missing or vague, or ",
        "whatever the code when the rule decides over one. Add or remove rules with postino bounce rules."),
      rulesTable(rules.items)));
}

async function one(id) {
  const b = await api("GET", `/api/v1/bounces/${encodeURIComponent(id)}`);
  const facts = [
    ["Email", b.email], ["Class", classCell(b)], ["Status", b.status || "–"],
    ["Diagnostic", b.diagnostic || "–"], ["Remote MTA", b.remote_mta || "–"], ["Source", b.source],
    ["Matched by", b.matched_by || "–"], ["Verified", b.unverified ? `no: ${UNVERIFIED}` : "yes"],
    ["Action taken", b.action || "–"], ["Subscriber now", b.subscriber_status || "gone"],
    ["Received", when(b.received_at)], ["Message-ID", b.message_id || "–"],
    ["Campaign", b.campaign_id ? el("a", { href: `#/report/${b.campaign_id}` }, String(b.campaign_id)) : "–"],
    ["Delivery", b.delivery_id ? String(b.delivery_id) : "–"], ["Rule", b.rule_id ? String(b.rule_id) : "–"],
  ];
  return el("section", { class: "bounce-one" },
    el("p", { class: "crumbs" }, el("a", { href: "#/bounces" }, "Bounces")),
    el("h1", {}, `Bounce ${b.id}`),
    el("section", { class: "card", "aria-labelledby": "h-fields" }, el("h2", { id: "h-fields" }, "What was read from it"),
      el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))),
    el("section", { class: "card", "aria-labelledby": "h-raw" }, el("h2", { id: "h-raw" }, "The report as received"),
      b.original === null ? el("p", { class: "muted" }, "None kept (a rejection at sending time, or a provider's event).")
        : [b.original_truncated ? el("p", { class: "muted" }, "Cut at the size kept.") : null,
          el("pre", { class: "raw", tabindex: "0" }, b.original)]));
}

async function render(args) {
  return args[0] ? one(args[0]) : list();
}

export const screen = { path: "bounces", title: "Bounces", render };
