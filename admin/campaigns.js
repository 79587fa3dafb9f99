// campaigns.js - the Campaigns screen (#/campaigns: every campaign with its
// state and counters, a page at a time) and the campaign editor
// (#/campaigns/new, #/campaigns/ID/edit): name, subject, From (the domains
// with a DKIM key offered, another warned of), Reply-To, lists, template, a
// body in Markdown or HTML with its syntax coloured and the uploaded images
// to put in it at the caret, a live preview for a
// chosen subscriber in a sandboxed frame with the derived text part; then a
// test message, a schedule in a time zone, send, pause, resume, cancel.

import { api, el, field, onSubmit, rerender, showErrors, toast } from "/admin/app.js";
import { codeField, errorPosition } from "/admin/code.js";
import { mediaPicker } from "/admin/media.js";
import { debounce, previewPane } from "/admin/preview.js";
import { num } from "/admin/widgets.js";

const PAGE = 50;
const enc = encodeURIComponent;

// ---- time zones: a wall time in a zone, the instant it is, and back

const ZONE_KEY = "postino.timezone";
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const chosenZone = () => localStorage.getItem(ZONE_KEY) || browserZone();

function zones() {
  const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const set = new Set(all);
  for (const z of ["UTC", browserZone(), chosenZone()]) set.add(z);
  return [...set].sort();
}

// minutes east of UTC that zone TZ is at the instant MS
function zoneOffset(ms, tz) {
  const f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return Math.round((wall - ms) / 60000);
}

// the ISO 8601 time with offset of the wall time LOCAL ("YYYY-MM-DDTHH:MM") in zone TZ
export function zonedIso(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let off = zoneOffset(guess, tz);
  const again = zoneOffset(guess - off * 60000, tz);   // across a change of offset, the offset then
  if (again !== off) off = again;
  const a = Math.abs(off);
  const pad = (n) => String(n).padStart(2, "0");
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00${off < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// an instant as a person reads it in zone TZ
function inZone(t, tz) {
  if (!t) return "";
  return `${new Date(t).toLocaleString("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "short" })} (${tz})`;
}

// ---- the list

const STATUS_ACTIONS = { draft: "Edit", scheduled: "Edit" };

function campaignRow(c) {
  const n = c.counts || {};
  return el("tr", {},
    el("td", { "data-label": "Name" }, el("a", { href: `#/campaigns/${enc(c.id)}/edit` }, c.name)),
    el("td", { "data-label": "Status" }, el("span", { class: `status status-${c.status}` }, c.status)),
    el("td", { "data-label": "Subject", class: "muted" }, c.subject),
    el("td", { "data-label": "Lists" }, (c.lists || []).map((l) => l.name).join(", ")),
    el("td", { "data-label": "Sent", class: "num" }, c.audience && c.audience.making
      ? `${num(n.sent)} of ${num(n.total)} (audience being made: about ${num(c.audience.estimated)})`
      : `${num(n.sent)} of ${num(n.total)}`),
    el("td", { "data-label": "Failed", class: "num" }, num(n.failed)),
    el("td", { "data-label": "Scheduled", class: "muted" }, c.send_at ? inZone(c.send_at, chosenZone()) : ""),
    el("td", {}, el("a", { href: `#/campaigns/${enc(c.id)}/edit` }, STATUS_ACTIONS[c.status] || "Open")));
}

async function list() {
  const { items } = await api("GET", `/api/v1/campaigns?limit=${PAGE}`);
  const tbody = el("tbody", {}, items.map(campaignRow));
  const more = el("button", { type: "button", class: "secondary", hidden: items.length < PAGE }, "Older campaigns");
  let last = items.length ? items[items.length - 1].id : 0;
  more.addEventListener("click", async () => {
    const page = await api("GET", `/api/v1/campaigns?limit=${PAGE}&after=${last}`);
    tbody.append(...page.items.map(campaignRow));
    if (page.items.length) last = page.items[page.items.length - 1].id;
    more.hidden = page.items.length < PAGE;
  });
  return el("section", {},
    el("div", { class: "title-row" }, el("h1", {}, "Campaigns"),
      el("a", { class: "button", href: "#/campaigns/new" }, "New campaign")),
    items.length === 0
      ? el("p", { class: "empty" }, "No campaigns yet.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards campaigns" },
        el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Status"), el("th", {}, "Subject"),
          el("th", {}, "Lists"), el("th", { class: "num" }, "Sent"), el("th", { class: "num" }, "Failed"),
          el("th", {}, `Scheduled (${chosenZone()})`), el("th", {}, el("span", { class: "muted" }, "Actions")))),
        tbody)),
    el("div", { class: "actions" }, more));
}

// ---- the editor

function splitFrom(c) {
  const addr = c.from_addr || "";
  const at = addr.lastIndexOf("@");
  return { name: c.from_name || "", local: at > 0 ? addr.slice(0, at) : addr, domain: at > 0 ? addr.slice(at + 1) : "" };
}

// "Name <addr>" with the name quoted when it has a character an address would read
function mailbox(name, addr) {
  if (!name) return addr;
  return /[",;:<>@()\[\]\\.]/.test(name) ? `"${name.replace(/["\\]/g, "\\$&")}" <${addr}>` : `${name} <${addr}>`;
}

// an uploaded image M with ALT as a body of format FMT writes it: Markdown ![alt](url), or HTML <img>
function imageMarkup(fmt, m, alt) {
  if (fmt === "html") {
    const attr = (v) => v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return `<img src="${attr(m.url)}" alt="${attr(alt)}">`;
  }
  const url = m.url.replace(/[ ()<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `![${alt.replace(/[\\[\]]/g, "\\$&")}](${url})`;
}

// the button and picker that put an uploaded image in the code area CODE at its caret, as format FMT() writes it
function imageInserter(code, fmt) {
  const button = el("button", { type: "button", class: "secondary small", "aria-expanded": "false" }, "Insert an image…");
  const picker = mediaPicker((m, alt) => {
    const t = code.input;
    t.focus();
    t.setRangeText(imageMarkup(fmt(), m, alt), t.selectionStart, t.selectionEnd, "end");
    t.dispatchEvent(new Event("input", { bubbles: true }));   // coloured, previewed
    button.setAttribute("aria-expanded", "false");
  });
  button.addEventListener("click", () => button.setAttribute("aria-expanded", String(picker.toggle())));
  return el("div", { class: "insert-image" }, button, picker.node);
}

function checkbox(name, value, label, checked) {
  const id = `f-${name}-${value}-${Math.random().toString(36).slice(2, 6)}`;
  return el("label", { class: "check", for: id },
    el("input", { type: "checkbox", id, name, value, checked }), " ", label);
}

// audienceBox - who of the lists gets it: everyone, a saved segment or a filter of the campaign's own,
// with the live count of that audience (the count the sender would make when the campaign starts)
function audienceBox(camp, segments) {
  const mode = camp.segment ? "segment" : camp.filter ? "filter" : "all";
  const radio = (v, label) => el("label", { class: "check" },
    el("input", { type: "radio", name: "audience", value: v, checked: mode === v }), ` ${label}`);
  const segField = field({ label: "Segment", name: "segment", value: camp.segment ? camp.segment.id : "",
    options: segments.map((g) => [g.id, g.name]) });
  const filterField = field({ label: "Filter", name: "filter", type: "textarea", rows: 3, value: camp.filter || "",
    hint: 'e.g. attribs.city = "Roma" and opened(within = 90d) and not bounced(hard)' });
  const shownFilter = el("p", { class: "hint segment-filter" });
  segField.append(shownFilter);
  const counted = el("p", { class: "audience-count", role: "status", "aria-live": "polite" });
  const node = el("fieldset", { class: "field audience", dataset: { field: "audience" } },
    el("legend", {}, "Audience"),
    el("div", { class: "checks-row" }, radio("all", "Everyone on the lists"),
      radio("segment", "A saved segment"), radio("filter", "A filter")),
    segField, filterField, counted, el("div", { class: "error" }));
  const chosen = () => node.querySelector("input[name=audience]:checked").value;
  const sync = () => {
    segField.hidden = chosen() !== "segment";
    filterField.hidden = chosen() !== "filter";
    const g = segments.find((x) => String(x.id) === segField.querySelector("select").value);
    shownFilter.textContent = g ? g.filter : "";
  };
  if (!segments.length) node.querySelector("input[value=segment]").disabled = true;
  node.addEventListener("change", sync);
  sync();
  let seq = 0;
  const count = debounce(async (v) => {
    const mine = ++seq;
    sync();
    const req = { lists: v.lists || [] };
    if (v.segment !== undefined) req.segment = String(v.segment);
    if (v.filter !== undefined) req.filter = v.filter;
    showErrors(node, null);
    if (!req.lists.length) {
      counted.textContent = "Choose a list to see how many would get it.";
      return;
    }
    counted.textContent = "Counting…";
    try {
      const r = await api("POST", "/api/v1/segments/count", req);
      if (mine !== seq) return;
      counted.textContent = `${num(r.count)} subscriber${r.count === 1 ? "" : "s"} would get it now.`;
    } catch (e) {
      if (e.sessionEnded || mine !== seq) return;
      counted.textContent = "";
      if (e.field === "filter" && chosen() === "filter") showErrors(node, e);
      else counted.textContent = e.message;
    }
  }, 400);
  return {
    node,
    count,
    concerns: (t) => t.name === "audience" || t.name === "segment" || t.name === "filter" || t.name === "lists",
    // the fields the API takes, from the form's data V
    value(v) {
      if (chosen() === "segment" && v.get("segment")) return { segment: String(v.get("segment")) };
      if (chosen() === "filter") return { filter: String(v.get("filter") || "") };
      return {};
    },
  };
}

// abBox - an A/B test: 2 to 4 subjects, the sample, the metric, the window, who picks; off: no test.
// A variant's own body or From name (set through the API or the CLI) is kept as it is.
function abBox(camp) {
  const ab = camp.ab || null;
  const kept = ab ? ab.variants : [];
  const on = checkbox("ab_on", "1", "Test 2 to 4 subjects on a sample first (A/B test)", !!ab);
  const subjects = el("div", { class: "ab-variants" });
  const addSubject = (value) => {
    const n = subjects.children.length + 1;
    subjects.append(el("div", { class: "ab-variant" },
      el("label", { for: `f-ab-v${n}` }, `Variant ${n}`),
      el("input", { id: `f-ab-v${n}`, name: "ab_subject", value: value || "", placeholder: "Subject" })));
    add.hidden = subjects.children.length >= 4;
  };
  const add = el("button", { type: "button", class: "secondary small" }, "Add a variant");
  add.addEventListener("click", () => addSubject(""));
  const variants = el("div", { class: "field", dataset: { field: "ab.variants" } },
    el("span", { class: "label" }, "Subjects"), subjects, add,
    el("div", { class: "hint" }, "each sampled subscriber gets one of them, in equal parts"),
    el("div", { class: "error", "aria-live": "polite" }));
  (kept.length ? kept.map((v) => v.subject) : [camp.subject || "", ""]).forEach(addSubject);
  const sample = field({ label: "Sample", name: "ab.sample", value: ab ? String(ab.sample) : "20%",
    hint: "a share (20%) or a number of subscribers (5000)" });
  const metric = field({ label: "Winner by", name: "ab.metric", value: ab ? ab.metric : "opens",
    options: [["opens", "unique opens"], ["clicks", "unique clicks"]] });
  const windowF = field({ label: "Test runs for", name: "ab.window", value: ab ? windowText(ab.window) : "4h",
    hint: "30m, 4h, 2d…; then the winner goes to the rest" });
  const pick = field({ label: "Winner picked", name: "ab.pick", value: ab ? ab.pick : "auto",
    options: [["auto", "automatically"], ["manual", "by me"]] });
  const parts = el("div", { class: "ab-parts" }, variants,
    el("div", { class: "ab-row" }, sample, metric, windowF, pick));
  const node = el("fieldset", { class: "field ab-box", dataset: { field: "ab" } },
    el("legend", {}, "A/B test"), on, parts, el("div", { class: "error" }));
  const sync = () => { parts.hidden = !on.querySelector("input").checked; };
  on.querySelector("input").addEventListener("change", sync);
  sync();
  return {
    node,
    // the API's "ab" from the form's data V: null when off
    value(v) {
      if (!v.get("ab_on")) return null;
      const subs = v.getAll("ab_subject").map(String).filter((x) => x.trim() !== "");
      return {
        variants: subs.map((subject, i) => {
          const k = kept[i];
          const out = { subject };
          if (k && k.html) out.html = k.html;
          if (k && k.from_name) out.from_name = k.from_name;
          return out;
        }),
        sample: /^[0-9]+$/.test(String(v.get("ab.sample")).trim()) ? Number(v.get("ab.sample")) : String(v.get("ab.sample")).trim(),
        metric: v.get("ab.metric"),
        window: String(v.get("ab.window")).trim(),
        pick: v.get("ab.pick"),
      };
    },
  };
}

// windowText - seconds as the shortest of 2d, 4h, 30m, 90s
function windowText(s) {
  for (const [u, n] of [["d", 86400], ["h", 3600], ["m", 60]]) if (s % n === 0) return `${s / n}${u}`;
  return `${s}s`;
}

async function editor(id) {
  const isNew = id === null;
  const [c, lists, templates, keys, subs, segments] = await Promise.all([
    isNew ? null : api("GET", `/api/v1/campaigns/${enc(id)}`),
    api("GET", "/api/v1/lists"), api("GET", "/api/v1/templates"), api("GET", "/api/v1/dkim-keys"),
    api("GET", "/api/v1/subscribers?limit=20"), api("GET", "/api/v1/segments"),
  ]);
  const camp = c || { name: "", subject: "", from_name: "", from_addr: "", reply_to: null, lists: [], template: null,
    format: "markdown", markdown: "# Hello {{ name | default \"there\" }}\n\nWrite here.\n\n[Unsubscribe]({{ unsubscribe_url }})\n",
    html: "", text: null, track_opens: false, track_clicks: false, status: "draft" };
  const domains = [...new Set(keys.items.map((k) => k.domain.toLowerCase()))].sort();
  const from = splitFrom(camp);
  const signed = (d) => domains.includes(d.toLowerCase());

  // From: a name, the part before @, a domain with a DKIM key (or another, warned of)
  const domainSel = el("select", { name: "from_domain", "aria-label": "From domain" },
    domains.map((d) => el("option", { value: d, selected: d === from.domain.toLowerCase() }, d)),
    el("option", { value: "", selected: !!from.domain && !signed(from.domain) || domains.length === 0 }, "another domain…"));
  const otherDomain = el("input", { name: "from_other", "aria-label": "Other From domain", placeholder: "example.org",
    value: from.domain && !signed(from.domain) ? from.domain : "" });
  const fromWarn = el("p", { class: "warn", role: "status" });
  const fromField = el("div", { class: "field", dataset: { field: "from" } },
    el("label", { for: "f-from-local" }, "From"),
    el("div", { class: "from-row" },
      el("input", { name: "from_name", "aria-label": "From name", placeholder: "Name", value: from.name }),
      el("input", { id: "f-from-local", name: "from_local", "aria-label": "From address, before the @", placeholder: "news", value: from.local }),
      el("span", { class: "at" }, "@"), domainSel, otherDomain),
    el("div", { class: "hint" }, domains.length ? "The domains offered have a DKIM key." : "No domain has a DKIM key yet."),
    fromWarn,
    el("div", { class: "error", "aria-live": "polite" }));
  const fromDomain = () => (domainSel.value || otherDomain.value.trim()).toLowerCase();
  const syncFrom = () => {
    otherDomain.hidden = domainSel.value !== "";
    const d = fromDomain();
    fromWarn.textContent = d && !signed(d) ? `no DKIM key for ${d}: messages will go unsigned` : "";
  };
  domainSel.addEventListener("change", syncFrom);
  otherDomain.addEventListener("input", syncFrom);
  syncFrom();

  const listBox = el("fieldset", { class: "field checks", dataset: { field: "lists" } },
    el("legend", {}, "Lists"),
    lists.items.length ? lists.items.map((l) => checkbox("lists", l.id, l.name, camp.lists.some((x) => x.id === l.id)))
      : el("p", { class: "muted" }, "No lists yet."),
    el("div", { class: "error", "aria-live": "polite" }));
  const audience = audienceBox(camp, segments.items);
  const abTest = abBox(camp);
  const format = camp.format === "html" ? "html" : "markdown";
  const formatBox = el("fieldset", { class: "field radios", dataset: { field: "format" } },
    el("legend", {}, "Body written in"),
    el("label", { class: "check" }, el("input", { type: "radio", name: "format", value: "markdown", checked: format === "markdown" }), " Markdown"),
    el("label", { class: "check" }, el("input", { type: "radio", name: "format", value: "html", checked: format === "html" }), " HTML"),
    el("div", { class: "error" }));
  const body = codeField({ label: "Body", name: "body", value: format === "markdown" ? camp.markdown : camp.html, mode: format, rows: 14,
    hint: "Markdown is CommonMark; raw HTML in it is left out. Placeholders: {{ name }}, {{ email }}, {{ attribs.KEY | default \"x\" }}, {{ unsubscribe_url }}, {{#if …}}…{{/if}}." });
  const ownText = checkbox("own_text", "1", "Write the text part myself (else it is derived from the HTML)", camp.text !== null);
  const text = codeField({ label: "Text part", name: "text", value: camp.text || "", mode: "text", rows: 6 });
  text.node.hidden = camp.text === null;
  ownText.querySelector("input").addEventListener("change", (ev) => { text.node.hidden = !ev.target.checked; });
  const code = { markdown: body, html: body, text };

  const form = el("form", { class: "stack", novalidate: true, "aria-label": "Campaign" },
    field({ label: "Name", name: "name", value: camp.name, required: true, hint: "for you; subscribers never see it" }),
    field({ label: "Subject", name: "subject", value: camp.subject, hint: "placeholders allowed: Hello {{ name }}" }),
    fromField,
    field({ label: "Reply-To", name: "reply_to", type: "email", value: camp.reply_to || "" }),
    listBox, audience.node,
    field({ label: "Template", name: "template", value: camp.template ? camp.template.id : "",
      options: [["", "none"], ...templates.items.map((t) => [t.id, t.name])] }),
    formatBox, body.node, imageInserter(body, () => form.querySelector("input[name=format]:checked").value),
    ownText, text.node,
    el("div", { class: "checks-row" },
      checkbox("track_opens", "1", "Track opens", camp.track_opens), checkbox("track_clicks", "1", "Track clicks", camp.track_clicks)),
    abTest.node,
    el("div", { class: "form-error", role: "alert" }),
    el("ul", { class: "warnings", "aria-live": "polite" }),
    el("div", { class: "actions" },
      el("button", { type: "submit" }, isNew ? "Save draft" : "Save changes"),
      el("a", { class: "button secondary", href: "#/campaigns" }, "Back to campaigns")));

  // what the form holds, as the API takes it (PREVIEW: nothing required, empty fields left out)
  const values = (preview) => {
    const v = new FormData(form);
    const fmt = v.get("format");
    const out = { name: v.get("name") };
    if (v.get("subject") || !preview) out.subject = v.get("subject") || undefined;
    const local = String(v.get("from_local") || "").trim();
    if (local || !preview) out.from = mailbox(String(v.get("from_name") || "").trim(), `${local}@${fromDomain()}`);
    if (v.get("reply_to")) out.reply_to = v.get("reply_to");
    const ids = v.getAll("lists").map(Number);
    if (ids.length || !preview) out.lists = ids;
    if (v.get("template")) out.template = Number(v.get("template"));
    if (!preview) Object.assign(out, audience.value(v));   // a preview renders the body: the audience is counted apart
    out[fmt] = v.get("body");
    if (v.get("own_text")) out.text = v.get("text");
    out.track_opens = !!v.get("track_opens");
    out.track_clicks = !!v.get("track_clicks");
    if (!preview) out.ab = abTest.value(v);
    if (!preview && out.ab && !out.subject) delete out.subject;   // the first variant's
    if (preview && !out.name) delete out.name;
    return out;
  };

  // the preview: every change of the form, a moment later
  const pane = previewPane();
  const who = field({ label: "Preview for subscriber", name: "subscriber", type: "email",
    value: subs.items.length ? subs.items[0].email : "", hint: "an email; empty: no personal values",
    attrs: { list: "preview-subscribers" } });
  const whoInput = who.querySelector("input");
  const clearCode = () => { body.showError(null); text.showError(null); };
  const showCode = (e) => {
    const c2 = code[e.field];
    if (!c2) return false;
    const p = errorPosition(e);
    c2.showError(e.message, p.line, p.column);
    return true;
  };
  let seq = 0;
  const refresh = debounce(async () => {
    const mine = ++seq;
    const req = values(true);
    if (whoInput.value.trim()) req.subscriber = whoInput.value.trim();
    try {
      const p = await api("POST", "/api/v1/campaigns/preview", req);
      if (mine !== seq) return;          // an older answer after a newer question
      clearCode();
      showErrors(who, null);
      pane.show(p);
    } catch (e) {
      if (e.sessionEnded || mine !== seq) return;
      clearCode();
      if (!showCode(e) && e.field === "subscriber") showErrors(who, e);
      pane.fail(e.message);
    }
  }, 350);
  const recount = () => {
    const v = new FormData(form);
    audience.count({ lists: v.getAll("lists").map(Number), ...audience.value(v) });
  };
  form.addEventListener("input", (ev) => {
    if (audience.concerns(ev.target)) recount();
    else refresh();
  });
  const audienceOnly = (t) => t.name === "audience" || t.name === "segment" || t.name === "filter";
  form.addEventListener("change", (ev) => {
    if (ev.target.name === "format") body.setMode(ev.target.value);
    if (audience.concerns(ev.target)) recount();
    if (!audienceOnly(ev.target)) refresh();
  });
  recount();
  whoInput.addEventListener("input", refresh);
  refresh();

  onSubmit(form, async () => {
    clearCode();
    const warnings = form.querySelector(".warnings");
    warnings.replaceChildren();
    try {
      const saved = isNew ? await api("POST", "/api/v1/campaigns", values(false))
        : await api("PUT", `/api/v1/campaigns/${enc(id)}`, values(false));
      warnings.replaceChildren(...(saved.warnings || []).map((w) => el("li", {}, w)));
      toast(`Campaign "${saved.name}" saved.`);
      if (isNew) location.hash = `#/campaigns/${saved.id}/edit`;
    } catch (e) {
      if (e.field === "markdown" || e.field === "html") {
        showCode(e);
        e.field = "body";
      }
      throw e;
    }
  });

  const side = el("div", { class: "side" },
    el("div", { class: "card preview-card" }, el("h2", {}, "Preview"), who,
      el("datalist", { id: "preview-subscribers" }, subs.items.map((s) => el("option", { value: s.email }, s.name || ""))),
      pane.node),
    isNew ? null : lifecycle(camp, id));
  return el("section", {},
    el("h1", {}, isNew ? "New campaign" : `Campaign: ${camp.name}`),
    isNew ? null : el("p", {}, "Status: ", el("span", { class: `status status-${camp.status}`, id: "campaign-status" }, camp.status),
      camp.send_at ? ` · scheduled for ${inZone(camp.send_at, chosenZone())}` : ""),
    el("div", { class: "editor-grid" }, el("div", { class: "card" }, form), side));
}

// the saved campaign's moves: a test message, a schedule, send, pause, resume, cancel
function lifecycle(c, id) {
  const out = el("p", { class: "result", role: "status", "aria-live": "polite" });
  const act = (label, path, cls, body) => el("button", {
    type: "button", class: cls || "secondary", onclick: async () => {
      try {
        await api("POST", `/api/v1/campaigns/${enc(id)}/${path}`, body ? body() : undefined);
        toast(`${label}: done.`);
        rerender();
      } catch (e) {
        if (!e.sessionEnded) out.textContent = e.message;
      }
    },
  }, label);

  const test = el("form", { class: "row", novalidate: true, "aria-label": "Test message" },
    field({ label: "Send a test message to", name: "to", type: "email", required: true }),
    el("button", { type: "submit" }, "Send test"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(test, async (v) => {
    const r = await api("POST", `/api/v1/campaigns/${enc(id)}/test`, { to: v.to });
    out.textContent = `Test message to ${r.to} taken by relay ${r.relay} (${r.code} ${r.text})${r.signed ? "" : ", unsigned"}.`;
  });

  const tzSel = el("select", { name: "zone", "aria-label": "Time zone" },
    zones().map((z) => el("option", { value: z, selected: z === chosenZone() }, z)));
  tzSel.addEventListener("change", () => localStorage.setItem(ZONE_KEY, tzSel.value));
  const sched = el("form", { class: "row", novalidate: true, "aria-label": "Schedule" },
    el("div", { class: "field", dataset: { field: "send_at" } },
      el("label", { for: "f-send-at" }, "Send at"),
      el("input", { id: "f-send-at", name: "at", type: "datetime-local", required: true }),
      el("div", { class: "error", "aria-live": "polite" })),
    el("div", { class: "field", dataset: { field: "zone" } }, el("label", { for: "f-zone" }, "Time zone"),
      Object.assign(tzSel, { id: "f-zone" }), el("div", { class: "error", "aria-live": "polite" })),
    el("button", { type: "submit" }, "Schedule"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(sched, async (v) => {
    const iso = zonedIso(v.at || "", tzSel.value);
    if (!iso) throw Object.assign(new Error("choose a day and a time"), { field: "send_at" });
    localStorage.setItem(ZONE_KEY, tzSel.value);
    const r = await api("POST", `/api/v1/campaigns/${enc(id)}/schedule`, { send_at: iso });
    toast(`Scheduled for ${inZone(r.send_at, tzSel.value)}.`);
    rerender();
  });

  const s = c.status;
  const moves = el("div", { class: "actions" },
    ["draft", "scheduled"].includes(s) ? act("Send now", "send", "") : null,
    ["scheduled", "running"].includes(s) ? act("Pause", "pause") : null,
    s === "paused" ? act("Resume", "resume") : null,
    ["draft", "scheduled", "running", "paused"].includes(s) ? act("Cancel campaign", "cancel", "danger") : null);
  return el("div", { class: "card lifecycle" },
    el("h2", {}, "Test and send"),
    test,
    ["draft", "scheduled"].includes(s) ? sched : null,
    moves,
    ["draft", "scheduled"].includes(s) ? null
      : el("p", {}, el("a", { class: "report-link", href: `#/report/${enc(id)}` }, "Open the campaign's report")),
    out);
}

function render(args) {
  if (args[0] === "new") return editor(null);
  if (args[0]) return editor(args[0]);
  return list();
}

export const screen = { path: "campaigns", title: "Campaigns", render };
