// code.js - a text area for templates and bodies with their syntax coloured,
// without a build step or a third-party editor: a <pre> drawn behind a
// transparent <textarea> of the same font, size and wrapping. The textarea
// grows with its text, so the two never scroll apart. The coloured copy is
// made of spans whose text is set as text (el() never parses HTML): what is
// typed is never markup here. Coloured: template tags ({{ … }}, {{{ … }}},
// {{#if}}…, phpList [WORD]s), HTML tags and comments, Markdown headings and
// emphasis. A compile error's line is marked, and its message names the line
// and column with a button that puts the caret there.

import { el } from "/admin/app.js";

// token patterns (sticky: each tried where the scan stands), tried in this order
const RULES = {
  common: [
    ["tag", /\{\{\{[^]*?\}\}\}/y],
    ["tag", /\{\{[^]*?\}\}/y],
    ["tag", /\[[A-Za-z][A-Za-z0-9_ -]{0,63}(%%[^\]\[\n]{0,256})?\]/y],
    ["comment", /<!--[^]*?-->/y],
    ["html", /<\/?[A-Za-z][^<>]*>/y],
  ],
  markdown: [
    ["heading", /#{1,6} [^\n]*/y, (src, i) => i === 0 || src[i - 1] === "\n"],
    ["strong", /\*\*[^*\n]+\*\*/y],
    ["em", /\*[^*\s][^*\n]*\*/y],
    ["link", /\]\([^)\s]*\)/y],
  ],
};

// the tokens of SRC: [kind or "", text]
export function tokens(src, mode) {
  const rules = mode === "markdown" ? [...RULES.common, ...RULES.markdown] : RULES.common;
  const out = [];
  let plain = "";
  let i = 0;
  while (i < src.length) {
    let hit = null;
    if ("{[<#*]".includes(src[i])) {
      for (const [kind, re, when] of rules) {
        if (when && !when(src, i)) continue;
        re.lastIndex = i;
        const m = re.exec(src);
        if (m) { hit = [kind, m[0]]; break; }
      }
    }
    if (hit) {
      if (plain) out.push(["", plain]);
      plain = "";
      out.push(hit);
      i += hit[1].length;
    } else {
      plain += src[i];
      i += 1;
    }
  }
  if (plain) out.push(["", plain]);
  return out;
}

// paint PRE with SRC's tokens, one span per line so that an error's line can be marked
function paint(pre, src, mode, errLine) {
  const lines = [el("span", { class: "hl-line" })];
  for (const [kind, text] of tokens(src, mode)) {
    const parts = text.split("\n");
    parts.forEach((part, k) => {
      if (k > 0) lines.push(el("span", { class: "hl-line" }));
      if (part) lines[lines.length - 1].append(kind ? el("span", { class: `hl-${kind}` }, part) : part);
    });
  }
  lines.forEach((l, k) => {
    if (k + 1 === errLine) l.classList.add("hl-error");
    if (k < lines.length - 1) l.append("\n");
  });
  lines[lines.length - 1].append("\u200b");   // a last empty line keeps its height
  pre.replaceChildren(...lines);
}

// the offset in SRC of LINE and COLUMN (both from 1; columns count characters)
function offsetOf(src, line, column) {
  let at = 0;
  for (let l = 1; l < line && at >= 0; l++) at = src.indexOf("\n", at) + 1 || src.length;
  return Math.min(src.length, at + [...src.slice(at)].slice(0, column - 1).join("").length);
}

// codeField - a labelled code area: { label, name, value, mode, rows, hint, oninput } -> { node, input, setMode, showError }
export function codeField(f) {
  const id = `f-${f.name}-${Math.random().toString(36).slice(2, 8)}`;
  let mode = f.mode || "html";
  let errLine = 0;
  const pre = el("pre", { class: "code-hl", "aria-hidden": "true" });
  const input = el("textarea", {
    id, name: f.name, class: "code-input", rows: f.rows || 10, spellcheck: "false",
    autocomplete: "off", "aria-describedby": `${id}-err`,
  }, f.value || "");
  // the message is the .error's text alone: showErrors() of app.js writes there too
  const err = el("div", { class: "error", id: `${id}-err`, "aria-live": "polite" });
  const goto = el("button", { type: "button", class: "secondary small goto", hidden: true }, "Go to the error");
  const redraw = () => {
    paint(pre, input.value, mode, errLine);
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
  };
  input.addEventListener("input", () => { redraw(); if (f.oninput) f.oninput(input.value); });
  const node = el("div", { class: "field code-field", dataset: { field: f.name } },
    el("label", { for: id }, f.label),
    el("div", { class: "code-wrap" }, pre, input),
    f.hint ? el("div", { class: "hint" }, f.hint) : null,
    err, goto);
  const api = {
    node, input,
    setMode(m) { mode = m; redraw(); },
    // showError(message, line, column): message beside the area, the line marked; showError(null) clears
    showError(message, line, column) {
      node.classList.toggle("invalid", !!message);
      err.textContent = message || "";
      errLine = message && line ? line : 0;
      goto.hidden = !(message && line);
      goto.onclick = () => {
        const at = offsetOf(input.value, line, column || 1);
        input.focus();
        input.setSelectionRange(at, at);
      };
      redraw();
    },
  };
  // drawn once it is in the page (its height needs the layout)
  requestAnimationFrame(redraw);
  redraw();
  return api;
}

// errorPosition - the line and column an API error names (invalid_template: "… line L, column C: …"), else {}
export function errorPosition(e) {
  const m = /\bline (\d+), column (\d+)/.exec((e && e.message) || "");
  return m ? { line: Number(m[1]), column: Number(m[2]) } : {};
}
