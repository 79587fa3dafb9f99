// media.js - the Images screen: images for campaigns uploaded (PNG, JPEG, GIF
// or WebP; the server checks the bytes are the type they claim and refuses
// SVG), kept once by content, shown newest first a page at a time with the
// public address a campaign uses, and removed after a warning. And the
// picker the campaign editor opens to put one of them in a body.

import { api, el, rerender, showErrors, toast } from "/admin/app.js";
import { bytes, confirmBox, copyButton, num, sendFile } from "/admin/upload.js";

const PAGE = 24;
const TYPES = "image/png,image/jpeg,image/gif,image/webp";

function uploadForm() {
  const input = el("input", { type: "file", id: "media-file", name: "file", accept: TYPES, required: true });
  const form = el("form", { class: "row", novalidate: true, "aria-label": "Upload an image" },
    el("div", { class: "field", dataset: { field: "body" } },
      el("label", { for: "media-file" }, "An image"),
      input,
      el("div", { class: "hint" }, "PNG, JPEG, GIF or WebP, up to 10000 pixels a side and the server's size limit "
        + "(5 MB unless set otherwise). SVG is not taken: it can hold scripts."),
      el("div", { class: "error", "aria-live": "polite" })),
    el("button", { type: "submit" }, "Upload"),
    el("div", { class: "form-error", role: "alert" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showErrors(form, null);
    const file = input.files[0];
    if (!file) {
      showErrors(form, { field: "body", message: "Choose an image first." });
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const m = await sendFile("POST", `/api/v1/media?name=${encodeURIComponent(file.name)}`, file,
        file.type || "application/octet-stream");
      toast(m.httpStatus === 200 ? `That image is here already (as "${m.name}"): nothing was added.`
        : `"${file.name}" uploaded.`);
      rerender();
    } catch (e) {
      if (!e.sessionEnded) showErrors(form, e.field ? e : { field: "body", message: e.message });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// one image: its thumbnail (served from here), what it is, its public address to copy, remove
function card(m) {
  const url = el("input", { type: "text", readonly: true, value: m.url, "aria-label": `Public address of ${m.name || m.file}` });
  const item = el("li", { class: "card media-item", dataset: { id: m.id } },
    el("a", { href: `/m/${m.file}`, target: "_blank", rel: "noopener", class: "thumb" },
      el("img", { src: `/m/${m.file}`, alt: m.name || m.file, loading: "lazy", width: m.width, height: m.height })),
    el("div", { class: "media-name" }, m.name || m.file),
    el("div", { class: "muted" }, `${m.type.replace("image/", "").toUpperCase()} · ${m.width}×${m.height} · ${bytes(m.size)}`),
    url,
    el("div", { class: "actions" },
      copyButton("Copy address", m.url, url),
      el("button", { type: "button", class: "danger", onclick: () => {
        if (item.querySelector(".confirm")) return;
        const box = confirmBox(`Remove "${m.name || m.file}"? Messages already sent that show it will show a broken image.`,
          "Remove", async () => {
            await api("DELETE", `/api/v1/media/${encodeURIComponent(m.id)}`);
            toast("Image removed.");
            rerender();
          });
        item.append(box);
        box.querySelector("button").focus();
      } }, "Remove")));
  return item;
}

// a page of images, newest first: before the id BEFORE (null: the newest)
const mediaPage = (before) => api("GET", `/api/v1/media?limit=${PAGE}${before ? `&before=${encodeURIComponent(before)}` : ""}`);

// the words an image's alt text starts from: its name without the extension
const altOf = (m) => (m.name || "").replace(/\.[A-Za-z0-9]{1,5}$/, "");

// mediaPicker - the uploaded images to choose one from, with its alt text: { node, toggle() -> open };
// ONPICK(image, alt) when one is chosen (the picker closes then)
export function mediaPicker(onPick) {
  const altId = `f-image-alt-${Math.random().toString(36).slice(2, 8)}`;
  // no name: not a field of the form it is in; Enter there does not submit that form
  const alt = el("input", { id: altId, autocomplete: "off", placeholder: "what the image shows",
    onkeydown: (ev) => { if (ev.key === "Enter") ev.preventDefault(); } });
  const list = el("ul", { class: "media-picks", "aria-label": "Images" });
  const status = el("p", { class: "muted", role: "status" });
  const more = el("div", { class: "actions" });
  const node = el("div", { class: "media-picker", hidden: true },
    el("div", { class: "field" }, el("label", { for: altId }, "Alt text"), alt,
      el("div", { class: "hint" }, "Read out where the image does not show; empty: the image's name."),
      el("div", { class: "error", "aria-live": "polite" })),   // showErrors() of the form it is in clears it
    status, list, more);
  const pick = (m) => el("li", {},
    el("button", { type: "button", class: "secondary pick", title: m.url, onclick: () => {
      onPick(m, alt.value.trim() || altOf(m));
      node.hidden = true;
    } }, el("img", { src: `/m/${m.file}`, alt: "", loading: "lazy", width: m.width, height: m.height }),
    el("span", {}, m.name || m.file)));
  const load = async (before) => {
    more.replaceChildren();
    status.textContent = "Loading…";
    try {
      const page = await mediaPage(before);
      list.append(...page.items.map(pick));
      status.textContent = list.children.length ? "" : "No images yet: upload them on the Images screen.";
      if (page.next_before) {
        more.append(el("button", { type: "button", class: "secondary small", onclick: () => load(page.next_before) },
          "Older images"));
      }
    } catch (e) {
      if (!e.sessionEnded) status.textContent = e.message;
    }
  };
  const toggle = () => {
    node.hidden = !node.hidden;
    if (!node.hidden) {
      list.replaceChildren();
      load(null);
      alt.focus();
    }
    return !node.hidden;
  };
  return { node, toggle };
}

async function render() {
  const first = await mediaPage(null);
  const grid = el("ul", { class: "media-grid", "aria-label": "Images" }, first.items.map(card));
  const more = el("div", { class: "actions" });
  let next = first.next_before;
  const moreButton = () => (next ? el("button", { type: "button", class: "secondary", onclick: async (ev) => {
    ev.target.disabled = true;
    const page = await mediaPage(next);
    grid.append(...page.items.map(card));
    next = page.next_before;
    more.replaceChildren(moreButton() || "");
  } }, "Older images") : null);
  more.replaceChildren(moreButton() || "");
  return el("section", { class: "media-screen" },
    el("h1", {}, "Images"),
    el("div", { class: "card" }, el("h2", {}, "Upload"), uploadForm()),
    first.items.length === 0
      ? el("p", { class: "empty" }, "No images yet.")
      : el("div", {}, el("p", { class: "muted" }, `Newest first; ${num(first.items.length)}${next ? "+" : ""} shown. `,
        "Campaigns link to the public address, which never changes (it names the image's content)."), grid, more));
}

export const screen = { path: "media", title: "Images", render };
