// lists.js - the Lists screen: every list with its subscribers by status;
// make one; delete one, having said what goes with it.

import { api, el, field, onSubmit, rerender, toast } from "/admin/app.js";

const num = (n) => Number(n || 0).toLocaleString("en");

function createForm() {
  const form = el("form", { class: "row", novalidate: true, "aria-label": "New list" },
    field({ label: "Name", name: "name", required: true, hint: "how campaigns and imports name it" }),
    field({ label: "Opt-in", name: "optin", value: "single",
      options: [["single", "single: subscribed at once"], ["double", "double: confirmed by email"]] }),
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

// the row's delete button: asks first, saying how many subscriptions go with the list
function deleteButton(l, row) {
  return el("button", {
    type: "button", class: "danger",
    onclick: () => {
      const subs = l.subscribers || {};
      const total = (subs.confirmed || 0) + (subs.unconfirmed || 0) + (subs.unsubscribed || 0);
      const box = el("div", { class: "card confirm", role: "alertdialog", "aria-label": `Delete list ${l.name}` },
        el("p", {}, `Delete the list "${l.name}" and its ${num(total)} subscription${total === 1 ? "" : "s"}? `,
          "The subscribers stay, with their other lists, history and unsubscribes."),
        el("div", { class: "actions" },
          el("button", { type: "button", class: "danger", onclick: async () => {
            try {
              await api("DELETE", `/api/v1/lists/${encodeURIComponent(l.id)}`);
              toast(`List "${l.name}" deleted.`);
              rerender();
            } catch (e) {
              box.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message));
            }
          } }, "Delete"),
          el("button", { type: "button", class: "secondary", onclick: () => box.remove() }, "Keep it")));
      row.after(el("tr", {}, el("td", { colspan: 7 }, box)));
      box.querySelector("button").focus();
    },
  }, "Delete");
}

// the screen's content
async function render() {
  const { items } = await api("GET", "/api/v1/lists");
  const rows = items.map((l) => {
    const s = l.subscribers || {};
    const row = el("tr", {},
      el("td", { "data-label": "Name" }, el("strong", {}, l.name)),
      el("td", { "data-label": "Opt-in" }, l.optin),
      el("td", { "data-label": "Description", class: "muted" }, l.description || ""),
      el("td", { "data-label": "Confirmed", class: "num" }, num(s.confirmed)),
      el("td", { "data-label": "Unconfirmed", class: "num" }, num(s.unconfirmed)),
      el("td", { "data-label": "Unsubscribed", class: "num" }, num(s.unsubscribed)));
    row.append(el("td", {}, deleteButton(l, row)));
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
