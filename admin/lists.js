// lists.js - the Lists screen: every list with its subscriptions by status;
// make one; change its name, description, opt-in, whether it is public and
// its welcome message in place; the signup form to paste into a site, and
// the hosted page; delete one, having said what goes with it (or which
// campaigns keep it).

import { api, el, field, onSubmit, rerender, toast } from "/admin/app.js";

const num = (n) => Number(n || 0).toLocaleString("en");
const plural = (n, word) => `${num(n)} ${word}${Number(n) === 1 ? "" : "s"}`;
const OPTINS = [["single", "single: subscribed at once"], ["double", "double: confirmed by email"]];
const PUBLICS = [["yes", "public"], ["no", "private"]];

function createForm() {
  const form = el("form", { class: "row", novalidate: true, "aria-label": "New list" },
    field({ label: "Name", name: "name", required: true, hint: "how campaigns and imports name it" }),
    field({ label: "Opt-in", name: "optin", value: "single", options: OPTINS }),
    field({ label: "Description", name: "description" }),
    el("button", { type: "submit" }, "Create list"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const body = { name: v.name, optin: v.optin };
    if (v.description) body.description = v.description;
    const l = await api("POST", "/api/v1/lists", body);
    toast(`List "${l.name}" created.`);
    rerender();
  });
  return form;
}

// the row opened under ROW (one at a time), holding NODE; closing it gives the focus back to BACK
function openBelow(row, node, back) {
  const tbody = row.parentNode;
  for (const r of tbody.querySelectorAll("tr.confirm-row")) r.remove();
  const extra = el("tr", { class: "confirm-row" }, el("td", { colspan: 7 }, node));
  const close = () => { extra.remove(); back.focus(); };
  extra.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(); });
  row.after(extra);
  return close;
}

// the row's edit button: name, description, opt-in, public and the welcome message in a small form under the row
function editButton(l, row) {
  const button = el("button", { type: "button", class: "secondary", "aria-label": `Edit list ${l.name}` }, "Edit");
  button.addEventListener("click", async () => {
    let templates = [];
    try {
      templates = (await api("GET", "/api/v1/templates")).items || [];
    } catch (e) {
      toast(e.message);
      return;
    }
    const cur = { name: l.name, optin: l.optin, description: l.description || "", public: l.public ? "yes" : "no",
      welcome_template: l.welcome_template || "", welcome_subject: l.welcome_subject || "" };
    const form = el("form", { class: "row card", novalidate: true, "aria-label": `Edit list ${l.name}` },
      field({ label: "Name", name: "name", value: cur.name, required: true }),
      field({ label: "Opt-in", name: "optin", value: cur.optin, options: OPTINS,
        hint: "applies to new subscriptions" }),
      field({ label: "Description", name: "description", value: cur.description }),
      field({ label: "Public", name: "public", value: cur.public, options: PUBLICS,
        hint: "public lists are on signup forms and the preference page" }),
      field({ label: "Welcome message", name: "welcome_template", value: cur.welcome_template,
        options: [["", "none"], ...templates.map((t) => [t.name, t.name])],
        hint: "sent when someone joins (single opt-in) or confirms (double)" }),
      field({ label: "Welcome subject", name: "welcome_subject", value: cur.welcome_subject,
        hint: "{{ list.name }} is the list's name" }),
      el("div", { class: "actions" },
        el("button", { type: "submit" }, "Save"),
        el("button", { type: "button", class: "secondary", onclick: () => close() }, "Cancel")),
      el("div", { class: "form-error", role: "alert" }));
    const close = openBelow(row, form, button);
    onSubmit(form, async (v) => {
      const body = {};   // only what changed
      for (const k of Object.keys(cur)) if (v[k] !== cur[k]) body[k] = v[k];
      if ("public" in body) body.public = body.public === "yes";
      if (body.welcome_template === "") body.welcome_template = null;
      if (Object.keys(body).length === 0) return close();
      let n;
      try {
        n = await api("PATCH", `/api/v1/lists/${encodeURIComponent(l.id)}`, body);
      } catch (e) {
        if (e.code === "exists") e.field = "name";   // the name is taken: said beside it
        throw e;
      }
      toast(`List "${n.name}" saved.`);
      rerender();
    });
    form.querySelector("input").focus();
  });
  return button;
}

// the row's form button: the snippet to paste into a site, and the hosted page
function formButton(l, row) {
  const button = el("button", { type: "button", class: "secondary", "aria-label": `Signup form of list ${l.name}` },
    "Form");
  button.addEventListener("click", async () => {
    const box = el("div", { class: "card signup-form", role: "dialog", "aria-label": `Signup form of list ${l.name}` });
    const close = openBelow(row, box, button);
    const done = el("button", { type: "button", class: "secondary", onclick: () => close() }, "Close");
    if (!l.public) {
      box.replaceChildren(el("p", {}, `The list "${l.name}" is private: make it public (Edit) to offer it on a `,
        "signup form."), el("div", { class: "actions" }, done));
      done.focus();
      return;
    }
    let f;
    try {
      f = await api("GET", `/api/v1/lists/${encodeURIComponent(l.id)}/form`);
    } catch (e) {
      box.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message), done);
      done.focus();
      return;
    }
    const code = el("textarea", { readonly: true, rows: 9, class: "snippet", "aria-label": "The form's HTML" }, f.html);
    const copy = el("button", { type: "button", onclick: async () => {
      code.select();
      try {
        await navigator.clipboard.writeText(f.html);
        toast("The form's HTML is copied.");
      } catch {
        toast("Select the text and copy it.");
      }
    } }, "Copy");
    box.replaceChildren(
      el("p", {}, "Paste this into any page of your site. It posts to postino, with a hidden field that catches ",
        "bots; the answer never tells whether an address was known."),
      code,
      el("p", {}, "Or link to the hosted page: ",
        el("a", { href: f.url, target: "_blank", rel: "noopener", class: "hosted" }, f.url)),
      el("div", { class: "actions" }, copy, done));
    copy.focus();
  });
  return button;
}

// what deleting L removes, or which campaigns keep it, read when asked
function deleteText(l) {
  const s = l.subscribers || {};
  const total = (s.confirmed || 0) + (s.unconfirmed || 0) + (s.unsubscribed || 0);
  const parts = [["confirmed", s.confirmed], ["unconfirmed", s.unconfirmed], ["unsubscribed", s.unsubscribed]]
    .filter(([, n]) => n).map(([k, n]) => `${num(n)} ${k}`);
  return `Delete the list "${l.name}"? This removes its ${plural(total, "subscription")}` +
    (parts.length ? ` (${parts.join(", ")})` : "") + ". ";
}

// the row's delete button: reads the list again, then asks, saying how many subscriptions go with it
function deleteButton(l, row) {
  const button = el("button", { type: "button", class: "danger", "aria-label": `Delete list ${l.name}` }, "Delete");
  button.addEventListener("click", async () => {
    const box = el("div", { class: "card confirm", role: "alertdialog", "aria-label": `Delete list ${l.name}` });
    const close = openBelow(row, box, button);
    let cur;
    try {
      cur = await api("GET", `/api/v1/lists/${encodeURIComponent(l.id)}`);
    } catch (e) {
      box.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message));
      return;
    }
    const keep = el("button", { type: "button", class: "secondary", onclick: () => close() }, "Keep it");
    if (cur.campaigns && cur.campaigns.length) {
      const names = cur.campaigns.map((c) => `"${c.name}" (${c.status})`).join(", ");
      box.replaceChildren(
        el("p", {}, `The list "${cur.name}" cannot be deleted: ${cur.campaigns.length === 1 ? "campaign" : "campaigns"} `,
          names, ` ${cur.campaigns.length === 1 ? "uses" : "use"} it. Remove it from `,
          cur.campaigns.length === 1 ? "the campaign" : "them", " first."),
        el("div", { class: "actions" }, el("button", { type: "button", class: "secondary", onclick: () => close() },
          "Close")));
      box.querySelector("button").focus();
      return;
    }
    box.replaceChildren(
      el("p", {}, deleteText(cur), "The subscribers stay, with their other lists, history and unsubscribes."),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "danger", onclick: async () => {
          try {
            await api("DELETE", `/api/v1/lists/${encodeURIComponent(l.id)}`);
            toast(`List "${l.name}" deleted.`);
            rerender();
          } catch (e) {
            box.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message), keep);
            keep.focus();
          }
        } }, "Delete"),
        keep));
    box.querySelector("button").focus();
  });
  return button;
}

// the screen's content
async function render() {
  const { items } = await api("GET", "/api/v1/lists");
  const rows = items.map((l) => {
    const s = l.subscribers || {};
    const row = el("tr", { dataset: { list: l.id } },
      el("td", { "data-label": "Name" }, el("strong", {}, l.name),
        l.public ? null : el("span", { class: "muted" }, " (private)")),
      el("td", { "data-label": "Opt-in" }, l.optin),
      el("td", { "data-label": "Description", class: "muted" }, l.description || ""),
      el("td", { "data-label": "Confirmed", class: "num" }, num(s.confirmed)),
      el("td", { "data-label": "Unconfirmed", class: "num" }, num(s.unconfirmed)),
      el("td", { "data-label": "Unsubscribed", class: "num" }, num(s.unsubscribed)));
    row.append(el("td", { class: "row-buttons" }, editButton(l, row), " ", formButton(l, row), " ",
      deleteButton(l, row)));
    return row;
  });
  return el("section", {},
    el("h1", {}, "Lists"),
    el("div", { class: "card" }, el("h2", {}, "New list"), createForm()),
    items.length === 0
      ? el("p", { class: "empty" }, "No lists yet.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards" },
        el("thead", {}, el("tr", {},
          el("th", {}, "Name"), el("th", {}, "Opt-in"), el("th", {}, "Description"),
          el("th", { class: "num" }, "Confirmed"), el("th", { class: "num" }, "Unconfirmed"),
          el("th", { class: "num" }, "Unsubscribed"), el("th", {}, el("span", { class: "muted" }, "Actions")))),
        el("tbody", {}, rows))));
}

export const screen = { path: "lists", title: "Lists", render };
