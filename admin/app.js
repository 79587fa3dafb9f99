// app.js - the postino admin: login, navigation, and the calls to /api/v1.
//
// Every action is a call of the REST API, checked by the server as any
// other. The login is a session cookie (HttpOnly: this script never sees
// it); what changes something carries the session's CSRF token besides.
// Pages are built with el(), which only ever sets text, never HTML: a
// subscriber's name is shown as the characters it is.

// each screen is a module exporting `screen`: { path, title, render(args) -> Node, adminOnly }
import * as lists from "/admin/lists.js";
import * as dashboard from "/admin/dashboard.js";
import * as subscribers from "/admin/subscribers.js";
import * as campaigns from "/admin/campaigns.js";
import * as templates from "/admin/templates.js";
import * as report from "/admin/report.js";
import * as bounces from "/admin/bounces.js";
import * as importer from "/admin/import.js";
import * as media from "/admin/media.js";
import * as settings from "/admin/settings.js";
import * as webhooks from "/admin/webhooks.js";
import * as providers from "/admin/providers.js";
import * as account from "/admin/account.js";

const screens = [dashboard, lists, subscribers, importer, campaigns, templates, report, bounces, providers, media,
  settings, webhooks, account].map((m) => m.screen);

const state = { user: null, csrf: null };

// el - an element TAG with ATTRS (on* functions become listeners) and CHILDREN (strings become text)
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// ApiError - an answer of the API that was not a success: its status, code, field and message
export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `the server answered ${status}`);
    this.status = status;
    this.code = err.code || "";
    this.field = err.field || null;
  }
}

// api - call METHOD PATH with BODY (JSON); the answer's JSON, or throws ApiError
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (res.status === 401 && path !== "/api/v1/session") {
    state.user = null;
    showLogin("Your session has ended; log in again.");
    const e = new ApiError(401, data);
    e.sessionEnded = true;   // shown already: the login form replaced the screen
    throw e;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// toast - a short message for a moment
export function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 4000);
}

// field - a labelled input: { label, name, type, value, hint, required, options, attrs }
export function field(f) {
  const id = `f-${f.name}-${Math.random().toString(36).slice(2, 8)}`;
  const errId = `${id}-err`;
  let input;
  if (f.options) {
    input = el("select", { id, name: f.name, required: f.required, ...f.attrs },
      f.options.map(([v, label]) => el("option", { value: v, selected: String(f.value) === String(v) }, label)));
  } else if (f.type === "textarea") {
    input = el("textarea", { id, name: f.name, required: f.required, rows: f.rows || 4, ...f.attrs }, f.value || "");
  } else {
    input = el("input", { id, name: f.name, type: f.type || "text", value: f.value ?? "", required: f.required,
      autocomplete: f.autocomplete || "off", ...f.attrs });
  }
  input.setAttribute("aria-describedby", errId);
  return el("div", { class: "field", dataset: { field: f.name } },
    el("label", { for: id }, f.label),
    input,
    f.hint ? el("div", { class: "hint" }, f.hint) : null,
    el("div", { class: "error", id: errId, "aria-live": "polite" }));
}

// showErrors - put ERR beside the field it names in FORM, else in the form's error line
export function showErrors(form, err) {
  for (const f of form.querySelectorAll(".field")) {
    f.classList.remove("invalid");
    f.querySelector(".error").textContent = "";
  }
  const line = form.querySelector(".form-error");
  if (line) line.textContent = "";
  if (!err) return;
  const f = err.field && form.querySelector(`.field[data-field="${CSS.escape(err.field)}"]`);
  if (f) {
    f.classList.add("invalid");
    f.querySelector(".error").textContent = err.message;
    const input = f.querySelector("input, select, textarea");
    if (input) input.focus();
  } else if (line) {
    line.textContent = err.message;
  } else {
    toast(err.message);
  }
}

// submitting - run FN(form data) for FORM's submit, its button disabled meanwhile, errors shown beside fields
export function onSubmit(form, fn) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    showErrors(form, null);
    try {
      await fn(Object.fromEntries(new FormData(form).entries()));
    } catch (e) {
      if (!e.sessionEnded) showErrors(form, e);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

function setMain(title, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children);
  document.title = title ? `${title} · postino` : "postino";
}

function showLogin(message) {
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  const form = el("form", { class: "stack", novalidate: true },
    el("div", { class: "form-error", role: "alert" }, message || ""),
    field({ label: "Email", name: "email", type: "email", required: true, autocomplete: "username" }),
    field({ label: "Password", name: "password", type: "password", required: true, autocomplete: "current-password" }),
    el("button", { type: "submit" }, "Log in"));
  onSubmit(form, async (v) => {
    const s = await api("POST", "/api/v1/session", { email: v.email, password: v.password });
    loggedIn(s);
    route();
  });
  setMain("Log in", el("section", { class: "card login" }, el("h1", {}, "Log in to postino"), form));
  form.querySelector("input").focus();
}

// the screens this user may open: the user role never sees the admin's (the server refuses them anyway)
function visibleScreens() {
  return screens.filter((sc) => !sc.adminOnly || (state.user && state.user.role === "admin"));
}

// me - the logged-in user: { id, email, role }
export function me() {
  return state.user;
}

function loggedIn(s) {
  state.user = s.user;
  state.csrf = s.csrf;
  const nav = document.getElementById("nav");
  nav.replaceChildren(...visibleScreens().map((sc) => el("a", { href: `#/${sc.path}`, dataset: { path: sc.path } }, sc.title)));
  nav.hidden = false;
  const who = document.getElementById("who");
  who.replaceChildren(el("span", {}, s.user.email),
    el("button", { type: "button", class: "secondary", onclick: logout }, "Log out"));
  who.hidden = false;
}

async function logout() {
  try { await api("DELETE", "/api/v1/session"); } catch (e) { /* gone already */ }
  state.user = null;
  state.csrf = null;
  location.hash = "#/";
  showLogin("You have logged out.");
}

async function route() {
  if (!state.user) return;
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const shown = visibleScreens();
  // a screen not in this user's navigation still opens when named: its API calls answer 403, and it says so
  const sc = screens.find((x) => x.path === parts[0]) || shown[0];
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.path === sc.path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  try {
    const content = await sc.render(parts.slice(1));
    setMain(sc.title, content);
    main.focus();
  } catch (e) {
    if (!e.sessionEnded)
      setMain(sc.title, el("h1", {}, sc.title), el("p", { class: "form-error", role: "alert" }, e.message));
  }
}

// rerender - draw the current screen again (after a change)
export function rerender() {
  route();
}

async function start() {
  window.addEventListener("hashchange", route);
  try {
    const s = await api("GET", "/api/v1/session");
    loggedIn(s);
    route();
  } catch (e) {
    showLogin(e instanceof ApiError && e.status === 401 ? "" : e.message);
  }
}

start();
