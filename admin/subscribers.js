// subscribers.js - the Subscribers screens: find subscribers (a piece of an
// address or a name, a list, a status, an attribute) a keyset page at a time;
// add one; open one to edit its name and attributes, see its subscriptions
// (unsubscribe, subscribe again), every delivery with the relay's reply, its
// bounces, opens and clicks; blocklist or delete it after saying what that does.
//
// Pages never count the table: "Next" follows the API's next_after, and the
// history's "Show older" its next_before.

import { api, el, field, onSubmit, rerender, showErrors, toast } from "/admin/app.js";

const PAGE = 50;        // subscribers a page
const HISTORY = 20;     // history rows a page

// the search kept while a subscriber is open, so coming back shows the same page
const find = { q: "", list: "", status: "", attr: "", stack: [0] };

const enc = encodeURIComponent;
const when = (t) => (t ? String(t).replace("T", " ").slice(0, 16) : "—");
const num = (n) => Number(n || 0).toLocaleString("en");

// confirmBox - ask QUESTION in a box after BUTTON's row; YES runs RUN (its error shown in the box), Cancel closes it
function confirmBox(button, label, question, yes, run) {
  const row = button.parentNode;
  const old = row.parentNode.querySelector(":scope > .confirm");
  if (old) old.remove();
  const box = el("div", { class: "card confirm", role: "alertdialog", "aria-label": label },
    el("p", {}, question),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "danger", onclick: async () => {
        try {
          await run();
        } catch (e) {
          if (!e.sessionEnded) box.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message));
        }
      } }, yes),
      el("button", { type: "button", class: "secondary", onclick: () => { box.remove(); button.focus(); } }, "Cancel")));
  row.after(box);
  box.querySelector("button").focus();
}

// ---- the list ----------------------------------------------------------------

function query() {
  const p = new URLSearchParams({ limit: String(PAGE) });
  const after = find.stack[find.stack.length - 1];
  if (after) p.set("after", String(after));
  if (find.q.trim()) p.set("q", find.q.trim());
  if (find.list) p.set("list", find.list);
  if (find.status) p.set("status", find.status);
  if (find.attr) {
    const i = find.attr.indexOf("=");
    p.set(`attr.${find.attr.slice(0, i).trim()}`, find.attr.slice(i + 1));
  }
  return `/api/v1/subscribers?${p}`;
}

function listsOf(s) {
  return (s.lists || []).flatMap((l, i) => [i ? ", " : "", el("span", { class: `lst-${l.status}` }, l.name),
    l.status === "confirmed" ? "" : ` (${l.status})`]);
}

function table(items) {
  return el("div", { class: "table-wrap" }, el("table", { class: "cards subs" },
    el("thead", {}, el("tr", {},
      el("th", { class: "num" }, "ID"), el("th", {}, "Email"), el("th", {}, "Name"),
      el("th", {}, "Status"), el("th", {}, "Lists"))),
    el("tbody", {}, items.map((s) => el("tr", {},
      el("td", { "data-label": "ID", class: "num" }, String(s.id)),
      el("td", { "data-label": "Email", class: "wrap" }, el("a", { href: `#/subscribers/${s.id}` }, s.email)),
      el("td", { "data-label": "Name", class: "wrap" }, s.name || ""),
      el("td", { "data-label": "Status" }, el("span", { class: `badge st-${s.status}` }, s.status)),
      el("td", { "data-label": "Lists", class: "wrap" }, listsOf(s)))))));
}

// load the page FIND names into OUT; an error goes beside the field of FORM it names
async function load(form, out) {
  showErrors(form, null);
  let page;
  try {
    page = await api("GET", query());
  } catch (e) {
    if (e.sessionEnded) return;
    out.replaceChildren();
    showErrors(form, e);
    return;
  }
  const n = find.stack.length - 1;
  const items = page.items;
  const prev = el("button", { type: "button", class: "secondary", disabled: n === 0, onclick: () => {
    find.stack.pop();
    load(form, out).then(() => out.querySelector(".pager button:not(:disabled)")?.focus());
  } }, "← Previous");
  const next = el("button", { type: "button", class: "secondary", disabled: page.next_after === null, onclick: () => {
    find.stack.push(page.next_after);
    load(form, out).then(() => out.querySelector(".pager button:not(:disabled)")?.focus());
  } }, "Next →");
  const shown = items.length === 0 ? "No subscribers on this page."
    : `Page ${n + 1}: ${items.length} shown (IDs ${items[0].id}–${items[items.length - 1].id})${page.next_after === null ? "" : ", more…"}`;
  out.replaceChildren(
    items.length === 0 && n === 0
      ? el("p", { class: "empty" }, "No subscriber matches.")
      : table(items),
    el("div", { class: "pager actions" }, prev, el("span", { class: "muted", role: "status" }, shown), next));
}

function findForm(lists, out) {
  const form = el("form", { class: "row", role: "search", "aria-label": "Find subscribers", novalidate: true },
    field({ label: "Search", name: "q", value: find.q, type: "search",
      hint: "3 or more characters of an address or a name" }),
    field({ label: "List", name: "list", value: find.list,
      options: [["", "any list"], ...lists.map((l) => [String(l.id), l.name])] }),
    field({ label: "Status", name: "status", value: find.status,
      options: [["", "any status"], ["enabled", "enabled"], ["disabled", "disabled"], ["blocklisted", "blocklisted"]] }),
    field({ label: "Attribute", name: "attr", value: find.attr, hint: "key=value, e.g. city=Lyon" }),
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Search"),
      el("button", { type: "button", class: "secondary", onclick: () => {
        Object.assign(find, { q: "", list: "", status: "", attr: "", stack: [0] });
        rerender();
      } }, "Clear")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    if (v.attr && (v.attr.indexOf("=") < 1)) {
      const e = new Error("write the attribute filter as key=value");
      e.field = "attr";
      throw e;
    }
    Object.assign(find, { q: v.q, list: v.list, status: v.status, attr: v.attr, stack: [0] });
    await load(form, out);
  });
  return form;
}

function addForm(lists) {
  const form = el("form", { class: "row", "aria-label": "New subscriber", novalidate: true },
    field({ label: "Email", name: "email", type: "email", required: true }),
    field({ label: "Name", name: "name" }),
    field({ label: "List", name: "lists", options: [["", "no list"], ...lists.map((l) => [String(l.id), l.name])] }),
    el("button", { type: "submit" }, "Add subscriber"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const body = { email: v.email };
    if (v.name) body.name = v.name;
    if (v.lists) body.lists = [Number(v.lists)];
    const s = await api("POST", "/api/v1/subscribers", body);
    toast(`Subscriber ${s.email} added.`);
    location.hash = `#/subscribers/${s.id}`;
  });
  return form;
}

async function renderList() {
  const { items: lists } = await api("GET", "/api/v1/lists");
  const out = el("div", { class: "results", "aria-live": "polite" });
  const form = findForm(lists, out);
  await load(form, out);
  return el("section", {},
    el("h1", {}, "Subscribers"),
    el("div", { class: "card" }, form),
    out,
    el("details", { class: "card add-sub" }, el("summary", {}, "Add a subscriber"), addForm(lists)));
}

// ---- one subscriber ------------------------------------------------------------

// the attribute editor: one row (key, value, Remove) per attribute; VALUES() gives the merge patch
function attribEditor(attribs) {
  const rows = el("div", { class: "attr-rows" });
  const orig = attribs || {};
  const shownOf = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  const addRow = (k, v) => {
    const key = el("input", { type: "text", value: k, "aria-label": "Attribute name", class: "attr-key" });
    const val = el("input", { type: "text", value: v, "aria-label": "Attribute value", class: "attr-value" });
    const row = el("div", { class: "attr-row" }, key, val,
      el("button", { type: "button", class: "secondary", onclick: () => {
        const nextRow = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        (nextRow ? nextRow.querySelector("input") : add).focus();
      } }, "Remove"));
    rows.append(row);
    return key;
  };
  for (const [k, v] of Object.entries(orig)) addRow(k, shownOf(v));
  const add = el("button", { type: "button", class: "secondary", onclick: () => addRow("", "").focus() }, "Add attribute");
  const box = el("div", { class: "field", dataset: { field: "attribs" } },
    el("span", { class: "label" }, "Attributes"),
    rows, el("div", {}, add),
    el("div", { class: "error", "aria-live": "polite" }));
  // the patch: every row's value (a value left as shown keeps its JSON type), null for a key gone
  box.patch = () => {
    const out = {};
    for (const r of rows.querySelectorAll(".attr-row")) {
      const k = r.querySelector(".attr-key").value;
      const v = r.querySelector(".attr-value").value;
      if (k === "" && v === "") continue;
      out[k] = k in orig && shownOf(orig[k]) === v ? orig[k] : v;
    }
    for (const k of Object.keys(orig)) if (!(k in out)) out[k] = null;
    return out;
  };
  return box;
}

function detailsForm(s) {
  const attrs = attribEditor(s.attribs);
  const form = el("form", { class: "stack", "aria-label": "Subscriber details", novalidate: true },
    field({ label: "Name", name: "name", value: s.name }),
    attrs,
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Save")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    await api("PATCH", `/api/v1/subscribers/${s.id}`, { name: v.name, attribs: attrs.patch() });
    toast("Saved.");
    rerender();
  });
  return form;
}

function subscriptions(s, subs, lists) {
  const rows = subs.map((x) => {
    const unsub = x.status === "unsubscribed";
    const btn = unsub && s.status === "blocklisted" ? el("span", { class: "muted" }, "blocklisted") : el("button", {
      type: "button", class: unsub ? "secondary" : "danger",
      onclick: async () => {
        try {
          if (unsub) await api("POST", `/api/v1/subscribers/${s.id}/subscriptions`, { list: x.list_id });
          else await api("DELETE", `/api/v1/subscribers/${s.id}/subscriptions/${x.list_id}`);
          toast(unsub ? `Subscribed to ${x.list} again.` : `Unsubscribed from ${x.list}.`);
          rerender();
        } catch (e) {
          if (!e.sessionEnded) toast(e.message);
        }
      },
    }, unsub ? "Resubscribe" : "Unsubscribe");
    return el("tr", { dataset: { list: x.list } },
      el("td", { "data-label": "List", class: "wrap" }, el("strong", {}, x.list)),
      el("td", { "data-label": "Status" }, el("span", { class: `badge sub-${x.status}` }, x.status)),
      el("td", { "data-label": "Opt-in" }, x.optin),
      el("td", { "data-label": "Since" }, when(x.updated_at)),
      el("td", {}, btn));
  });
  const others = lists.filter((l) => !subs.some((x) => x.list_id === l.id));
  let form = null;
  if (others.length && s.status !== "blocklisted") {
    form = el("form", { class: "row", "aria-label": "Subscribe to a list", novalidate: true },
      field({ label: "Subscribe to", name: "list", options: others.map((l) => [String(l.id), l.name]) }),
      el("button", { type: "submit" }, "Subscribe"),
      el("div", { class: "form-error", role: "alert" }));
    onSubmit(form, async (v) => {
      await api("POST", `/api/v1/subscribers/${s.id}/subscriptions`, { list: Number(v.list) });
      toast("Subscribed.");
      rerender();
    });
  }
  return el("div", { class: "card", id: "subscriptions" }, el("h2", {}, "Subscriptions"),
    subs.length === 0 ? el("p", { class: "empty" }, "On no list.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards" },
        el("thead", {}, el("tr", {}, el("th", {}, "List"), el("th", {}, "Status"), el("th", {}, "Opt-in"),
          el("th", {}, "Since"), el("th", {}, el("span", { class: "muted" }, "Actions")))),
        el("tbody", {}, rows))),
    form);
}

// a history section: TITLE, PATH's pages newest first, each item made rows by ROWS; "Show older" pages on
async function history(id, title, path, head, rows, empty) {
  const body = el("tbody", {});
  const more = el("button", { type: "button", class: "secondary" }, "Show older");
  const bar = el("div", { class: "actions" }, more);
  const section = el("div", { class: "card", id: path },
    el("h2", {}, title),
    el("div", { class: "table-wrap" }, el("table", { class: "cards hist" },
      el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))), body)),
    bar);
  let before = 0;
  const page = async () => {
    const p = new URLSearchParams({ limit: String(HISTORY) });
    if (before) p.set("before", String(before));
    const r = await api("GET", `/api/v1/subscribers/${id}/${path}?${p}`);
    body.append(...r.items.flatMap(rows));
    before = r.next_before;
    bar.hidden = before === null;
  };
  more.addEventListener("click", () => page().catch((e) => { if (!e.sessionEnded) toast(e.message); }));
  await page();
  if (!body.children.length) section.querySelector(".table-wrap").replaceWith(el("p", { class: "empty" }, empty));
  return section;
}

function reply(d) {
  if (!d.smtp_code && !d.smtp_reply) return el("span", { class: "muted" }, "—");
  return el("span", { class: "smtp" }, [d.smtp_code, d.smtp_enhanced, d.smtp_reply].filter((x) => x).join(" "));
}

const deliveryRow = (d) => [el("tr", {},
  el("td", { "data-label": "Campaign", class: "wrap" }, d.campaign.kind === "tx" ? `${d.campaign.name} (transactional)` : d.campaign.name),
  el("td", { "data-label": "State" }, el("span", { class: `badge dl-${d.state}` }, d.state)),
  el("td", { "data-label": "Attempts", class: "num" }, String(d.attempts)),
  el("td", { "data-label": "SMTP reply", class: "wrap" }, reply(d)),
  el("td", { "data-label": "Sent or last try" }, when(d.sent_at || d.updated_at)),
  el("td", { "data-label": "Opens", class: "num" }, num(d.opens)),
  el("td", { "data-label": "Clicks", class: "num" }, num(d.clicks)))];

const bounceRow = (b) => [el("tr", {},
  el("td", { "data-label": "Received" }, when(b.received_at)),
  el("td", { "data-label": "Class" }, el("span", { class: `badge bc-${b.class}` }, b.class)),
  el("td", { "data-label": "Status" }, b.status || "—"),
  el("td", { "data-label": "Diagnostic", class: "wrap" }, b.diagnostic || "—"),
  el("td", { "data-label": "Campaign", class: "wrap" }, b.campaign ? b.campaign.name : "—"),
  el("td", { "data-label": "Action" }, b.action || "—"))];

const eventRows = (x) => [
  ...(x.open ? [el("tr", {},
    el("td", { "data-label": "Campaign", class: "wrap" }, x.campaign.name),
    el("td", { "data-label": "Event" }, "open"),
    el("td", { "data-label": "Link", class: "wrap" }, "—"),
    el("td", { "data-label": "Times", class: "num" }, num(x.open.n)),
    el("td", { "data-label": "First" }, when(x.open.first_at)),
    el("td", { "data-label": "Last" }, when(x.open.last_at)))] : []),
  ...x.clicks.map((c) => el("tr", {},
    el("td", { "data-label": "Campaign", class: "wrap" }, x.campaign.name),
    el("td", { "data-label": "Event" }, "click"),
    el("td", { "data-label": "Link", class: "wrap" }, c.url),
    el("td", { "data-label": "Times", class: "num" }, num(c.n)),
    el("td", { "data-label": "First" }, when(c.first_at)),
    el("td", { "data-label": "Last" }, when(c.last_at)))),
];

const consentRow = (c) => [el("tr", {},
  el("td", { "data-label": "When" }, when(c.at)),
  el("td", { "data-label": "List", class: "wrap" }, c.list_deleted ? `${c.list} (deleted)` : c.list),
  el("td", { "data-label": "Change" }, `${c.from_status || "none"} → ${c.to_status || "removed"}`),
  el("td", { "data-label": "How" }, el("span", { class: "badge" }, c.via)),
  el("td", { "data-label": "By", class: "wrap" }, c.actor || "—"),
  el("td", { "data-label": "Client", class: "wrap" }, [c.ip, c.user_agent].filter((x) => x).join(" · ") || "—"))];

function dangerZone(s) {
  const block = el("button", { type: "button", class: "danger", disabled: s.status === "blocklisted" }, "Blocklist");
  block.addEventListener("click", () => confirmBox(block, `Blocklist ${s.email}`,
    `Blocklist ${s.email}? It is unsubscribed from every list, and no campaign or import mails or subscribes it again.`,
    "Blocklist", async () => {
      await api("POST", `/api/v1/subscribers/${s.id}/blocklist`);
      toast(`${s.email} is blocklisted.`);
      rerender();
    }));
  const del = el("button", { type: "button", class: "danger" }, "Delete");
  del.addEventListener("click", () => confirmBox(del, `Delete ${s.email}`,
    `Delete ${s.email}? Its subscriptions, deliveries, opens and clicks go with it; its bounces stay, without it. ` +
    "To stop mailing an address for good, blocklist it instead: a deleted address can be imported again.",
    "Delete", async () => {
      await api("DELETE", `/api/v1/subscribers/${s.id}`);
      toast(`${s.email} is deleted.`);
      location.hash = "#/subscribers";
    }));
  const exp = el("button", { type: "button", class: "secondary" }, "Export (JSON)");
  exp.addEventListener("click", async () => {
    try {
      const doc = await api("GET", `/api/v1/subscribers/${s.id}/export`);
      const a = el("a", { download: `subscriber-${s.id}.json`,
        href: URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" })) });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) {
      if (!e.sessionEnded) toast(e.message);
    }
  });
  const erase = el("button", { type: "button", class: "danger" }, "Erase");
  erase.addEventListener("click", () => confirmBox(erase, `Erase ${s.email}`,
    `Erase ${s.email} for good? Everything stored about it goes: the subscriber, its subscriptions and consent ` +
    "records, deliveries, opens, clicks and bounces, and the rejected import rows and unmatched bounces that name it. " +
    "If it is blocklisted, complained or left every list, only a salted hash of the address is kept so that it is " +
    "never added or imported again. Past campaigns' counts stay as they are. This cannot be undone.",
    "Erase", async () => {
      const r = await api("POST", `/api/v1/subscribers/${s.id}/erase`);
      toast(r.suppressed ? `${s.email} is erased; it stays suppressed (${r.suppressed}).` : `${s.email} is erased.`);
      location.hash = "#/subscribers";
    }));
  return el("div", { class: "card" }, el("h2", {}, "Blocklist, delete or erase"),
    el("div", { class: "actions" }, block, del, exp, erase));
}

async function renderOne(id) {
  let s;
  try {
    s = await api("GET", `/api/v1/subscribers/${enc(id)}`);
  } catch (e) {
    if (e.status !== 404) throw e;
    return el("section", {}, el("h1", {}, "No such subscriber"),
      el("p", {}, e.message), el("p", {}, el("a", { href: "#/subscribers" }, "← Subscribers")));
  }
  const [{ items: subs }, { items: lists }] = await Promise.all([
    api("GET", `/api/v1/subscribers/${s.id}/subscriptions`), api("GET", "/api/v1/lists")]);
  const parts = await Promise.all([
    history(s.id, "Deliveries", "deliveries",
      ["Campaign", "State", "Attempts", "SMTP reply", "Sent or last try", "Opens", "Clicks"], deliveryRow, "Nothing was sent to it yet."),
    history(s.id, "Bounces", "bounces",
      ["Received", "Class", "Status", "Diagnostic", "Campaign", "Action"], bounceRow, "Nothing came back."),
    history(s.id, "Opens and clicks", "events",
      ["Campaign", "Event", "Link", "Times", "First", "Last"], eventRows, "No open or click recorded."),
    history(s.id, "Consent", "consent",
      ["When", "List", "Change", "How", "By", "Client"], consentRow, "No subscription change recorded."),
  ]);
  return el("section", { class: "subscriber" },
    el("p", { class: "crumbs" }, el("a", { href: "#/subscribers" }, "← Subscribers")),
    el("h1", { class: "wrap" }, s.email),
    el("p", { class: "meta" },
      el("span", { class: `badge st-${s.status}` }, s.status), ` · id ${s.id} · added ${when(s.created_at)} · changed ${when(s.updated_at)}`),
    el("div", { class: "card" }, el("h2", {}, "Details"), detailsForm(s)),
    subscriptions(s, subs, lists),
    ...parts,
    dangerZone(s));
}

async function render(args) {
  return args[0] ? renderOne(args[0]) : renderList();
}

export const screen = { path: "subscribers", title: "Subscribers", render };
