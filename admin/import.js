// import.js - the Import screen: a CSV or XML file read first as the import
// would read it (the delimiter and encoding found, what each column becomes,
// the first rows checked), the mapping changed, lists and mode chosen; a dry
// run that writes nothing, then the import, with a progress bar when it runs
// as a job, its summary, and the rejected rows to read and download.

import { api, el, field, showErrors } from "/admin/app.js";
import { bytes, num, sendFile } from "/admin/upload.js";

const PREVIEW_BYTES = 256 * 1024;   // the preview reads the first rows only: the file's start is enough
const PREVIEW_ROWS = 10;
const POLL_MS = 500;

const COUNTS = [
  ["rows_read", "Rows read"],
  ["new_subscribers", "New subscribers"],
  ["existing_updated", "Existing subscribers updated"],
  ["already_subscribed", "Already subscribed"],
  ["skipped", "Skipped (blocklisted, or unsubscribed from the list)"],
  ["not_found", "Not found"],
  ["duplicates_in_file", "Repeated in the file"],
  ["rejected", "Rejected"],
];

const DELIMITERS = [["", "as detected"], [",", "comma ,"], [";", "semicolon ;"], ["tab", "tab"], ["|", "pipe |"], [":", "colon :"]];
const ENCODINGS = [["", "UTF-8"], ["windows-1252", "Windows-1252 (Western)"], ["latin1", "Latin-1 (ISO-8859-1)"],
  ["utf-16", "UTF-16"]];
const FIELDS = [["email", "the email address"], ["name", "the name"], ["attribute", "an attribute"], ["skip", "nothing (skipped)"]];

function contentType(file) {
  return /\.xml$/i.test(file.name) || /xml/.test(file.type) ? "application/xml" : "text/csv";
}

// the query string of the import as chosen so far, with EXTRA arguments
function query(st, extra) {
  const q = new URLSearchParams();
  if (st.delimiter) q.append("delimiter", st.delimiter);
  if (st.encoding) q.append("encoding", st.encoding);
  for (const m of st.maps) q.append("map", m);
  for (const [k, v] of Object.entries(extra || {})) {
    for (const one of [].concat(v)) q.append(k, one);
  }
  return q.toString();
}

// the map arguments that make each column what the person chose
function mapsOf(choices) {
  return choices.filter((c) => c.header !== "").map((c) =>
    `${c.header}=${c.field === "skip" ? "-" : c.field === "attribute" ? (c.key || c.header) : c.field}`);
}

function summaryCounts(s) {
  return el("dl", { class: "counts" }, COUNTS.flatMap(([k, label]) =>
    [el("dt", {}, label), el("dd", { dataset: { count: k } }, num(s[k]))]));
}

function rejectsTable(list) {
  return el("div", { class: "table-wrap" }, el("table", { class: "cards rejects" },
    el("thead", {}, el("tr", {}, el("th", { class: "num" }, "Line"), el("th", {}, "Why"), el("th", {}, "The row"))),
    el("tbody", {}, list.map((r) => el("tr", {},
      el("td", { "data-label": "Line", class: "num" }, String(r.line)),
      el("td", { "data-label": "Why" }, r.reason),
      el("td", { "data-label": "Row" }, el("code", {}, r.row)))))));
}

// the outcome of an import or dry run: counts, first rejects, the download
function summaryView(s, id, dry) {
  const rejected = Number(s.rejected || 0);
  return el("section", { class: "card summary", "aria-live": "polite" },
    el("h2", {}, dry ? "Dry run: nothing was written" : "Imported"),
    el("p", { class: "muted" }, dry ? "This is what the import would do, with the same checks."
      : `Into ${(s.lists || [s.list]).filter(Boolean).join(", ") || "the blocklist"} (${s.mode}), in ${s.seconds} s.`),
    summaryCounts(s),
    rejected > 0 ? el("div", {},
      el("h3", {}, `The first rejected rows (${num(Math.min(rejected, (s.first_rejects || []).length))} of ${num(rejected)})`),
      rejectsTable(s.first_rejects || []),
      el("p", {}, el("a", { href: `/api/v1/imports/${encodeURIComponent(id)}/rejects`, download: `import-${id}-rejects.csv`,
        class: "download" }, "Download every rejected row (CSV)"))) : null);
}

// the preview's rows: each clean row as the subscriber it makes, each rejected one with why
function rowsTable(rows) {
  return el("div", { class: "table-wrap" }, el("table", { class: "cards preview-rows" },
    el("thead", {}, el("tr", {}, el("th", { class: "num" }, "Line"), el("th", {}, "Email"), el("th", {}, "Name"),
      el("th", {}, "Attributes"))),
    el("tbody", {}, rows.map((r) => r.rejected !== undefined
      ? el("tr", { class: "rejected" },
        el("td", { "data-label": "Line", class: "num" }, String(r.line)),
        el("td", { colspan: 3 }, el("strong", {}, "Rejected: "), r.rejected,
          el("div", { class: "raw" }, el("code", {}, r.row))))
      : el("tr", {},
        el("td", { "data-label": "Line", class: "num" }, String(r.line)),
        el("td", { "data-label": "Email" }, r.email),
        el("td", { "data-label": "Name" }, r.name === null ? el("span", { class: "muted" }, "none") : r.name),
        el("td", { "data-label": "Attributes" }, Object.entries(r.attributes || {}).map(([k, v]) =>
          el("span", { class: "attr" }, `${k}: `, el("span", {}, v)))))))));
}

// the mapping: for each column what it becomes; a change previews again
function mappingTable(p, st, again) {
  const choices = p.columns.map((c) => ({ header: c.header, field: c.field, key: c.key || c.header }));
  const changed = () => { st.maps = mapsOf(choices); again(); };
  return el("div", { class: "table-wrap" }, el("table", { class: "cards mapping" },
    el("thead", {}, el("tr", {}, el("th", {}, "Column in the file"), el("th", {}, "Becomes"), el("th", {}, "Attribute key"))),
    el("tbody", {}, choices.map((c, i) => {
      const id = `map-${i}`;
      const key = c.field === "attribute"
        ? el("input", { type: "text", id: `${id}-key`, value: c.key, "aria-label": `Attribute key for ${c.header}`,
          onchange: (ev) => { c.key = ev.target.value.trim() || c.header; changed(); } })
        : el("span", { class: "muted" }, "—");
      const select = el("select", { id, "aria-label": `What column ${c.header} becomes`, disabled: c.header === "",
        onchange: (ev) => { c.field = ev.target.value; changed(); } },
      FIELDS.map(([v, label]) => el("option", { value: v, selected: v === c.field }, label)));
      return el("tr", { dataset: { column: c.header } },
        el("td", { "data-label": "Column" }, el("label", { for: id }, c.header || el("span", { class: "muted" }, "(no name)"))),
        el("td", { "data-label": "Becomes" }, select),
        el("td", { "data-label": "Key" }, key));
    }))));
}

// what the preview found: format, delimiter, encoding, with the means to change them
function detectedView(p, st, again) {
  const delim = el("select", { id: "imp-delimiter", onchange: (ev) => { st.delimiter = ev.target.value; again(); } },
    DELIMITERS.map(([v, l]) => el("option", { value: v, selected: v === st.delimiter }, l)));
  const enc = el("select", { id: "imp-encoding", onchange: (ev) => { st.encoding = ev.target.value; again(); } },
    ENCODINGS.map(([v, l]) => el("option", { value: v, selected: v === st.encoding }, l)));
  const looks = p.encoding_detected;
  const mismatch = looks !== "utf-8" && !st.encoding;
  return el("div", { class: "detected" },
    el("dl", { class: "facts" },
      el("dt", {}, "Format"), el("dd", { dataset: { fact: "format" } }, p.format.toUpperCase()),
      p.format === "csv" ? [el("dt", {}, "Delimiter"), el("dd", { dataset: { fact: "delimiter" } },
        p.delimiter === "tab" ? "tab" : `"${p.delimiter}"`, st.delimiter ? " (as chosen)" : " (detected)")] : null,
      el("dt", {}, "Encoding"), el("dd", { dataset: { fact: "encoding" } }, `read as ${p.encoding}`,
        `; the first bytes look like ${looks}`, p.bom ? " with a byte order mark" : "")),
    mismatch ? el("p", { class: "warn", role: "note" },
      `This file does not look like UTF-8 (it looks like ${looks}): choose its encoding below, or accented letters will be rejected.`) : null,
    el("div", { class: "row" },
      p.format === "csv" ? el("div", { class: "field" }, el("label", { for: "imp-delimiter" }, "Delimiter"), delim) : null,
      el("div", { class: "field" }, el("label", { for: "imp-encoding" }, "Encoding"), enc)));
}

// poll import ID until it ends, showing its progress in BAR and LINE; its summary, or throws with its error
async function follow(id, bar, line, alive) {
  for (;;) {
    const j = await api("GET", `/api/v1/imports/${encodeURIComponent(id)}`);
    if (j.state === "done") {
      bar.value = bar.max;
      return j.summary;
    }
    if (j.state === "failed") throw new Error(`Nothing was imported: ${j.error}`);
    const p = j.progress;
    if (j.state === "queued" || !p) {
      line.textContent = j.state === "queued" ? "Waiting for another import to end…" : "Starting…";
    } else {
      bar.max = Math.max(1, j.bytes);
      bar.value = Math.min(p.bytes_read, j.bytes);
      const pct = Math.floor((100 * bar.value) / bar.max);
      line.textContent = p.phase === "merging" || p.phase === "done"
        ? `${num(p.rows)} rows read; merging them into the database…`
        : `${num(p.rows)} rows read (${num(p.rejected)} rejected), ${bytes(p.bytes_read)} of ${bytes(j.bytes)}: ${pct}%`;
    }
    if (!alive()) throw new Error("left the screen");
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// the lists, mode and status, and the two buttons
function optionsForm(st, lists, result) {
  const form = el("form", { class: "stack", novalidate: true, "aria-label": "Import options" },
    el("fieldset", { class: "field lists", dataset: { field: "list" } },
      el("legend", {}, "Lists"),
      lists.length === 0 ? el("p", { class: "muted" }, "No lists yet: make one on the Lists screen first.") : null,
      lists.map((l, i) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "list", value: l.name, checked: i === 0 && lists.length === 1 }), l.name)),
      el("div", { class: "hint" }, "Every row joins each list checked (the counts are of the first one)."),
      el("div", { class: "error", "aria-live": "polite" })),
    el("div", { class: "row" },
      field({ label: "Mode", name: "mode", value: "subscribe",
        options: [["subscribe", "subscribe"], ["unsubscribe", "unsubscribe from the list"], ["blocklist", "blocklist"]] }),
      field({ label: "Status of new subscriptions", name: "status", value: "",
        options: [["", "as the list's opt-in says"], ["confirmed", "confirmed"], ["unconfirmed", "unconfirmed"]] })),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "overwrite", value: "1" }),
      "Existing subscribers: replace their name and merge their attributes"),
    el("div", { class: "actions" },
      el("button", { type: "submit", name: "go", value: "dry", class: "secondary" }, "Dry run"),
      el("button", { type: "submit", name: "go", value: "import" }, "Import")),
    el("div", { class: "form-error", role: "alert" }));
  let running = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (running) return;
    const dry = ev.submitter ? ev.submitter.value === "dry" : false;
    const data = new FormData(form);
    const args = { list: data.getAll("list"), mode: data.get("mode") };
    if (data.get("status")) args.status = data.get("status");
    if (data.get("overwrite")) args.overwrite = "true";
    if (dry) args.dry_run = "true";
    showErrors(form, null);
    running = true;
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    const bar = el("progress", { max: 1, value: 0, "aria-label": "Import progress" });
    const line = el("p", { class: "progress-line", "aria-live": "polite" }, "Sending the file…");
    result.replaceChildren(el("section", { class: "card running" }, el("h2", {}, dry ? "Dry run" : "Importing"), bar, line));
    result.scrollIntoView({ block: "nearest" });
    try {
      const a = await sendFile("POST", `/api/v1/imports?${query(st, args)}`, st.file, contentType(st.file));
      let summary = a;
      if (a.state === "queued") summary = await follow(a.id, bar, line, () => result.isConnected);
      result.replaceChildren(summaryView(summary, a.id, dry));
      const h = result.querySelector("h2");
      h.setAttribute("tabindex", "-1");
      h.focus({ preventScroll: true });
      result.scrollIntoView({ block: "start" });
    } catch (e) {
      result.replaceChildren();
      if (!e.sessionEnded && e.message !== "left the screen") showErrors(form, e);
    } finally {
      running = false;
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  });
  return form;
}

async function render() {
  const { items: lists } = await api("GET", "/api/v1/lists");
  const st = { file: null, delimiter: "", encoding: "", maps: [] };
  const previewBox = el("div", { class: "preview", "aria-live": "polite" });
  const result = el("div", { class: "import-result" });
  const optionsBox = el("section", { class: "card options", hidden: true },
    el("h2", {}, "3. Where the rows go"), optionsForm(st, lists, result));
  const fileErr = el("div", { class: "form-error", role: "alert" });

  // read the file's start as the import would, and show it
  async function preview() {
    fileErr.textContent = "";
    const head = st.file.size > PREVIEW_BYTES ? st.file.slice(0, PREVIEW_BYTES) : st.file;
    let p;
    try {
      const extra = { rows: PREVIEW_ROWS };
      if (head !== st.file) extra.partial = "true";   // the file's start only: where it is cut is no error
      p = await sendFile("POST", `/api/v1/imports/preview?${query(st, extra)}`, head, contentType(st.file));
    } catch (e) {
      if (!e.sessionEnded) fileErr.textContent = e.message;
      return;
    }
    previewBox.replaceChildren(el("section", { class: "card" },
      el("h2", {}, "2. What the import reads"),
      el("p", { class: "muted" }, `${st.file.name}, ${bytes(st.file.size)}. `,
        p.more ? `The first ${p.rows.length} rows, checked as the import checks them.` : "Every row, checked as the import checks it."),
      detectedView(p, st, preview),
      p.error ? el("p", { class: "form-error", role: "alert" }, `The import would fail: ${p.error}`) : null,
      p.columns.length ? [el("h3", {}, "What each column becomes"), mappingTable(p, st, preview)] : null,
      p.rows.length ? [el("h3", {}, "The first rows"), rowsTable(p.rows)] : null));
    optionsBox.hidden = !!p.error;
  }

  const input = el("input", { type: "file", id: "imp-file", name: "file", accept: ".csv,.tsv,.txt,.xml,text/csv,text/xml,application/xml",
    onchange: (ev) => {
      st.file = ev.target.files[0] || null;
      st.delimiter = "";
      st.encoding = "";
      st.maps = [];
      result.replaceChildren();
      previewBox.replaceChildren();
      optionsBox.hidden = true;
      if (st.file) preview();
    } });
  return el("section", { class: "import-screen" },
    el("h1", {}, "Import subscribers"),
    el("section", { class: "card" },
      el("h2", {}, "1. The file"),
      el("div", { class: "field" }, el("label", { for: "imp-file" }, "A CSV or XML file"), input,
        el("div", { class: "hint" }, "CSV as spreadsheets write it (comma, semicolon, tab or pipe; a header row naming the columns), or postino's XML.")),
      fileErr),
    previewBox, optionsBox, result);
}

export const screen = { path: "import", title: "Import", render };
