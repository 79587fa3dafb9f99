// preview.js - a message as a subscriber would get it: its subject, its HTML
// in a sandboxed frame, its text part. The frame has sandbox="" (no scripts,
// no same origin, no forms, no navigation of this page) and loads the HTML
// from the address the preview's answer gives (/admin/preview/ID, kept a few
// minutes for this user alone), served with a policy of its own: the
// message's styles and images show as a mail client would show them, no
// script runs, and the document is sandboxed even outside this frame. The
// admin's own policy stays strict (no inline style, images from here only).

import { el } from "/admin/app.js";

// previewPane - { node, show({subject, url, text}), fail(message) }
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
  const fail = (message) => {
    status.textContent = message;
    node.classList.add("stale");
  };
  const show = (p) => {
    status.textContent = "";
    subject.textContent = p.subject;
    text.textContent = p.text;
    if (!p.url) {
      frame.removeAttribute("src");
      fail("The message is too large to show here; send a test message to see it.");
      return;
    }
    frame.src = p.url;   // the frame loads it; this page never parses it
    node.classList.remove("stale");
  };
  return { node, frame, show, fail };
}

// debounce - FN called once WAIT ms after the last call
export function debounce(fn, wait) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), wait);
  };
}
