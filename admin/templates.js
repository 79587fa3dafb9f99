// templates.js - the Templates screen: every template (#/templates), and one
// edited (#/templates/ID, #/templates/new) with its syntax coloured, compiled
// as it is typed (an error shown at its line and column) and previewed
// around sample content for a chosen subscriber.

import { api, el, field, onSubmit, showErrors, toast } from "/admin/app.js";
import { codeField, errorPosition } from "/admin/code.js";
import { debounce, previewPane } from "/admin/preview.js";

const num = (n) => Number(n || 0).toLocaleString("en");
const when = (t) => (t ? new Date(t).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "");

async function list() {
  const { items } = await api("GET", "/api/v1/templates");
  const rows = items.map((t) => el("tr", {},
    el("td", { "data-label": "Name" }, el("a", { href: `#/templates/${encodeURIComponent(t.id)}` }, t.name)),
    el("td", { "data-label": "HTML", class: "num" }, `${num(t.html_bytes)} bytes`),
    el("td", { "data-label": "Text", class: "num" }, t.text_bytes === null ? "derived" : `${num(t.text_bytes)} bytes`),
    el("td", { "data-label": "Campaigns", class: "num" }, num(t.campaigns)),
    el("td", { "data-label": "Created", class: "muted" }, when(t.created_at))));
  return el("section", {},
    el("div", { class: "title-row" }, el("h1", {}, "Templates"),
      el("a", { class: "button", href: "#/templates/new" }, "New template")),
    items.length === 0
      ? el("p", { class: "empty" }, "No templates yet.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards" },
        el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", { class: "num" }, "HTML"),
          el("th", { class: "num" }, "Text"), el("th", { class: "num" }, "Campaigns"), el("th", {}, "Created"))),
        el("tbody", {}, rows))));
}

const STARTER = "<!doctype html>\n<html>\n<body>\n  <div class=\"wrap\">\n    [CONTENT]\n  </div>\n  <p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>\n</body>\n</html>\n";

async function editor(ref) {
  const t = ref === "new" ? { name: "", subject: null, html: STARTER, text: null }
    : await api("GET", `/api/v1/templates/${encodeURIComponent(ref)}`);
  const pane = previewPane();
  const html = codeField({ label: "HTML layout", name: "html", value: t.html, mode: "html", rows: 14,
    hint: "[CONTENT] or {{ content }} is where a campaign's body goes." });
  const text = codeField({ label: "Text layout", name: "text", value: t.text || "", mode: "text", rows: 5,
    hint: "Empty: the text part is derived from the HTML." });
  const code = { html, text };
  const form = el("form", { class: "stack", novalidate: true, "aria-label": "Template" },
    field({ label: "Name", name: "name", value: t.name, required: true }),
    field({ label: "Default subject", name: "subject", value: t.subject || "", hint: "for campaigns that give none; placeholders allowed" }),
    html.node, text.node,
    el("div", { class: "form-error", role: "alert" }),
    el("div", { class: "actions" },
      el("button", { type: "submit" }, ref === "new" ? "Create template" : "Save template"),
      el("a", { class: "button secondary", href: "#/templates" }, "Back to templates")));
  const who = field({ label: "Preview for subscriber", name: "subscriber", type: "email",
    hint: "an email; empty: no personal values" });

  // what the form holds, as the API takes it
  const values = () => {
    const v = Object.fromEntries(new FormData(form).entries());
    const body = { name: v.name, html: v.html };
    if (v.subject) body.subject = v.subject;
    if (v.text) body.text = v.text;
    return body;
  };
  const clearCode = () => { for (const c of Object.values(code)) c.showError(null); };
  const whoInput = who.querySelector("input");
  const refresh = debounce(async () => {
    const { name, ...body } = values();
    if (whoInput.value) body.subscriber = whoInput.value;
    try {
      const p = await api("POST", "/api/v1/templates/preview", body);
      clearCode();
      showErrors(who, null);
      pane.show(p);
    } catch (e) {
      if (e.sessionEnded) return;
      clearCode();
      if (code[e.field]) code[e.field].showError(e.message, errorPosition(e).line, errorPosition(e).column);
      else if (e.field === "subscriber") showErrors(who, e);
      pane.fail(e.message);
    }
  }, 300);
  form.addEventListener("input", refresh);
  whoInput.addEventListener("input", refresh);
  refresh();

  onSubmit(form, async () => {
    clearCode();
    const body = values();
    try {
      const saved = ref === "new" ? await api("POST", "/api/v1/templates", body)
        : await api("PUT", `/api/v1/templates/${encodeURIComponent(ref)}`, body);
      toast(`Template "${saved.name}" saved.`);
      if (ref === "new") location.hash = `#/templates/${saved.id}`;
    } catch (e) {
      if (code[e.field]) code[e.field].showError(e.message, errorPosition(e).line, errorPosition(e).column);
      throw e;
    }
  });

  const del = ref === "new" ? null : el("button", {
    type: "button", class: "danger", onclick: async () => {
      try {
        await api("DELETE", `/api/v1/templates/${encodeURIComponent(ref)}`);
        toast(`Template "${t.name}" deleted.`);
        location.hash = "#/templates";
      } catch (e) {
        if (!e.sessionEnded) toast(e.message);
      }
    },
  }, "Delete template");

  return el("section", {},
    el("h1", {}, ref === "new" ? "New template" : `Template: ${t.name}`),
    el("div", { class: "editor-grid" },
      el("div", { class: "card" }, form, del ? el("div", { class: "actions danger-zone" }, del) : null),
      el("div", { class: "card preview-card" }, el("h2", {}, "Preview"), who, pane.node)));
}

function render(args) {
  return args[0] ? editor(args[0]) : list();
}

export const screen = { path: "templates", title: "Templates", render };
