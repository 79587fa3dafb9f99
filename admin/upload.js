// upload.js - requests whose body is a file (an import, an image) rather than
// JSON, with the same login and CSRF token as api() in app.js; and the small
// helpers the Import, Images and Settings screens share.

import { api, ApiError, el, toast } from "/admin/app.js";

let csrf = null;

// the session's CSRF token (asked once, again after a refusal)
async function token() {
  if (!csrf) csrf = (await api("GET", "/api/v1/session")).csrf;
  return csrf;
}

// sendFile - METHOD PATH with BODY (a Blob or File) of content TYPE; the answer's JSON (its
// status as .httpStatus), or throws ApiError
export async function sendFile(method, path, body, type) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, {
      method, credentials: "same-origin", body,
      headers: { Accept: "application/json", "Content-Type": type, "X-CSRF-Token": await token() },
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 403 && data && data.error && data.error.code === "csrf" && attempt === 0) {
      csrf = null;   // another login since: ask the token again, once
      continue;
    }
    if (res.status === 401) {
      csrf = null;
      await api("GET", "/api/v1/me");   // shows the login form, and throws
    }
    if (!res.ok) throw new ApiError(res.status, data);
    if (data && typeof data === "object") Object.defineProperty(data, "httpStatus", { value: res.status });
    return data;
  }
}

// num - a count for people: 12,345
export const num = (n) => Number(n || 0).toLocaleString("en");

// bytes - a size for people: 1.2 MB
export function bytes(n) {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// copyButton - a button copying TEXT (the clipboard when there is one, else the text of SELECT is selected)
export function copyButton(label, text, select) {
  return el("button", {
    type: "button", class: "secondary",
    onclick: async () => {
      try {
        if (!navigator.clipboard) throw new Error("no clipboard");
        await navigator.clipboard.writeText(text);
        toast("Copied.");
      } catch (e) {
        if (select) {
          select.focus();
          if (select.select) select.select();
        }
        toast("Select the text and copy it (Ctrl+C).");
      }
    },
  }, label);
}

// confirmBox - a box asking MESSAGE before DOIT (async; its error is shown in the box), or keeping it
export function confirmBox(message, yes, doit) {
  const box = el("div", { class: "card confirm", role: "alertdialog", "aria-label": message },
    el("p", {}, message),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "danger", onclick: async () => {
        try {
          await doit();
        } catch (e) {
          if (!e.sessionEnded) box.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message));
        }
      } }, yes),
      el("button", { type: "button", class: "secondary", onclick: () => box.remove() }, "Keep it")));
  return box;
}
