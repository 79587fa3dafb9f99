// account.js - the Account screen, for every user: one's own password, and
// one's own API tokens (made with the password asked again, the token shown
// once and never after; listed by name; revoked).

import { api, el, field, onSubmit, rerender, showErrors, toast } from "/admin/app.js";
import { confirmBox, copyButton } from "/admin/upload.js";

const when = (t) => (t ? new Date(t).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "never");

function passwordForm() {
  const form = el("form", { class: "stack narrow", novalidate: true, "aria-label": "Change your password" },
    field({ label: "Current password", name: "current_password", type: "password", required: true, autocomplete: "current-password" }),
    field({ label: "New password", name: "password", type: "password", required: true, autocomplete: "new-password" }),
    field({ label: "New password again", name: "again", type: "password", required: true, autocomplete: "new-password" }),
    el("div", {}, el("button", { type: "submit" }, "Change password")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    if (v.password !== v.again) {
      showErrors(form, { field: "again", message: "The two new passwords differ." });
      return;
    }
    await api("POST", "/api/v1/me/password", { current_password: v.current_password, password: v.password });
    // every session of the account ends with its password: this one too
    toast("Your password is changed; log in with it.");
    rerender();
  });
  return form;
}

// the new token, shown this once
function shownOnce(t) {
  const value = el("input", { type: "text", readonly: true, value: t.token, class: "token-value", "aria-label": "The new token" });
  return el("div", { class: "card once", role: "status" },
    el("h3", {}, `Token "${t.name}"`),
    el("p", { class: "warn" }, "Copy it now: it is shown this once, and postino keeps only its hash."),
    value,
    el("div", { class: "actions" }, copyButton("Copy token", t.token, value),
      el("button", { type: "button", class: "secondary", onclick: () => rerender() }, "Done")));
}

function tokenForm(out) {
  const form = el("form", { class: "row", novalidate: true, "aria-label": "New API token" },
    field({ label: "Name", name: "name", hint: "what uses it, e.g. the shop's server" }),
    field({ label: "Your password", name: "password", type: "password", required: true, autocomplete: "current-password",
      hint: "asked again: a token cannot make another" }),
    el("button", { type: "submit" }, "Make token"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const t = await api("POST", "/api/v1/me/tokens", { name: v.name, password: v.password });
    form.reset();
    out.replaceChildren(shownOnce(t));
    out.querySelector("input").focus();
  });
  return form;
}

async function render() {
  const [{ items: tokens }, self] = await Promise.all([api("GET", "/api/v1/me/tokens"), api("GET", "/api/v1/me")]);
  const out = el("div", { class: "token-once" });
  const rows = tokens.map((t) => {
    const row = el("tr", { dataset: { token: t.id } },
      el("td", { "data-label": "Name" }, t.name ? el("strong", {}, t.name) : el("span", { class: "muted" }, "(no name)")),
      el("td", { "data-label": "Made" }, when(t.created_at)),
      el("td", { "data-label": "Last used" }, when(t.last_used_at)),
      el("td", {}, el("button", { type: "button", class: "danger", onclick: () => {
        const next = row.nextElementSibling;
        if (next && next.classList.contains("confirm-row")) return;
        const box = confirmBox(`Revoke the token "${t.name || t.id}"? What uses it stops working at once.`, "Revoke", async () => {
          await api("DELETE", `/api/v1/me/tokens/${encodeURIComponent(t.id)}`);
          toast("Token revoked.");
          rerender();
        });
        const tr = el("tr", { class: "confirm-row" }, el("td", { colspan: 4 }, box));
        box.querySelector("button.secondary").addEventListener("click", () => tr.remove());
        row.after(tr);
        box.querySelector("button").focus();
      } }, "Revoke")));
    return row;
  });
  return el("section", { class: "account" },
    el("h1", {}, "Your account"),
    el("p", {}, "Logged in as ", el("strong", {}, self.email), ` (${self.role}).`),
    el("section", { class: "card" }, el("h2", {}, "API tokens"),
      el("p", { class: "muted" }, "For programs using the REST API as you (Authorization: Bearer TOKEN)."),
      out,
      tokens.length === 0 ? el("p", { class: "empty" }, "No tokens.")
        : el("div", { class: "table-wrap" }, el("table", { class: "cards tokens" },
          el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Made"), el("th", {}, "Last used"),
            el("th", {}, el("span", { class: "muted" }, "Actions")))),
          el("tbody", {}, rows))),
      el("h3", {}, "Make a token"), tokenForm(out)),
    el("section", { class: "card" }, el("h2", {}, "Password"), passwordForm()));
}

export const screen = { path: "account", title: "Account", render };
