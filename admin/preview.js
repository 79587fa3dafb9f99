// preview.js - a message as a subscriber would get it: its subject, its HTML
// in a sandboxed frame, its text part. The frame has sandbox="" (no scripts,
// no same origin, no forms, no navigation of this page) and its document is
// given through the srcdoc property, so nothing of the campaign runs and
// nothing of it can reach the admin. It inherits the admin's
// Content-Security-Policy besides (no script at all), which lets a message's
// own styles and images show as a mail client would show them.

import { el } from "/admin/app.js";

// previewPane - { node, show({subject, html, text}), fail(message) }
export function previewPane() {
  const subject = el("p", { class: "preview-subject" });
  const frame = el("iframe", { class: "preview-frame", sandbox: "", title: "The HTML part, as rendered", referrerpolicy: "no-referrer" });
  const text = el("pre", { class: "preview-text" });
  const status = el("p", { class: "form-error preview-error", role: "alert" });
  const textBox = el("details", { class: "preview-text-box" }, el("summary", {}, "Text part"), text);
  const node = el("div", { class: "preview" },
    status,
    el("div", { class: "preview-subject-line" }, el("span", { class: "muted" }, "Subject: "), subject),
    frame,
    el("p", { class: "hint" },
      "Scripts never run here; styles and images show as in a mail client."),
    textBox);
  return {
    node,
    frame,
    show(p) {
      status.textContent = "";
      subject.textContent = p.subject;
      frame.srcdoc = p.html;        // a property: the frame parses it, this page never does
      text.textContent = p.text;
      node.classList.remove("stale");
    },
    fail(message) {
      status.textContent = message;
      node.classList.add("stale");
    },
  };
}

// debounce - FN called once WAIT ms after the last call
export function debounce(fn, wait) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), wait);
  };
}
