// settings.js - the Settings screen (admins): relays (add with every field,
// test with each step of the session shown, remove), DKIM keys (make one,
// the DNS record to copy, remove), the DNS check (what the DNS says of a
// domain now, each finding with the record that fixes it) and users (add,
// disable and enable, reset a password, remove). The server refuses all of it to the user role (403),
// whatever this page shows; a relay's password and a key's private half are
// never in any answer.

import { api, el, field, me, onSubmit, rerender, toast } from "/admin/app.js";
import { confirmBox, copyButton } from "/admin/upload.js";

const SECTIONS = [["relays", "Relays"], ["dkim", "DKIM keys"], ["dns", "DNS check"], ["users", "Users"]];

// a confirmation under table row ROW (COLS wide)
function confirmRow(row, cols, message, yes, doit) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("confirm-row")) return;
  const box = confirmBox(message, yes, doit);
  const tr = el("tr", { class: "confirm-row" }, el("td", { colspan: cols }, box));
  row.after(tr);
  box.querySelector("button").focus();
  box.querySelector("button.secondary").addEventListener("click", () => tr.remove());
}

// ---- relays ----

// a quota's period as written: h, d, m, or 30m, 90s
function period(s) {
  const units = [[86400, "d"], [3600, "h"], [60, "m"]];
  for (const [n, u] of units) if (s % n === 0) return s === n ? u : `${s / n}${u}`;
  return `${s}s`;
}

function relayForm() {
  const form = el("form", { class: "stack", novalidate: true, "aria-label": "New relay" },
    el("div", { class: "row" },
      field({ label: "Name", name: "name", required: true, hint: "how campaigns and tests name it" }),
      field({ label: "Host", name: "host", required: true, hint: "the submission server, e.g. smtp.example.com" }),
      field({ label: "Port", name: "port", type: "number", hint: "default: 587 (465 with TLS)", attrs: { min: 1, max: 65535 } }),
      field({ label: "TLS", name: "tls", value: "starttls", options: [["starttls", "STARTTLS (587)"], ["tls", "TLS from the start (465)"],
        ["auto", "STARTTLS when offered"], ["none", "none (this machine only)"]] })),
    el("div", { class: "row" },
      field({ label: "User", name: "username", autocomplete: "off" }),
      field({ label: "Password", name: "password", type: "password", autocomplete: "new-password",
        hint: "stored for sending; never shown again" }),
      field({ label: "CA file", name: "ca_file", hint: "a PEM file on the server, for a private CA" })),
    el("div", { class: "row" },
      field({ label: "Connections", name: "max_conns", type: "number", hint: "at once (default 4)", attrs: { min: 1 } }),
      field({ label: "Messages per connection", name: "max_per_conn", type: "number", hint: "default 100", attrs: { min: 1 } }),
      field({ label: "Rate", name: "rate", hint: "e.g. 10/s, 300/m; empty: unpaced" }),
      field({ label: "Quota", name: "quota", hint: "e.g. 1000/h, 20000/d; empty: none" })),
    el("div", { class: "checks" },
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "tls_verify", value: "1", checked: true }),
        "Verify the server's certificate"),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "allow_plain_auth", value: "1" }),
        "Allow the password without TLS (a relay on this machine only)")),
    el("div", {}, el("button", { type: "submit" }, "Add relay")),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const body = { name: v.name, host: v.host, tls: v.tls, tls_verify: !!v.tls_verify, allow_plain_auth: !!v.allow_plain_auth };
    for (const k of ["username", "password", "ca_file", "rate", "quota"]) if (v[k]) body[k] = v[k];
    for (const k of ["port", "max_conns", "max_per_conn"]) if (v[k] !== "") body[k] = Number(v[k]);
    const r = await api("POST", "/api/v1/relays", body);
    toast(`Relay "${r.name}" added.`);
    rerender();
  });
  return form;
}

// the steps of a relay's test, each with how it went
function testResult(t) {
  return el("div", { class: `relay-test ${t.ok ? "ok" : "failed"}`, role: "status" },
    el("p", {}, el("strong", {}, t.ok ? "The relay works." : `The ${t.failed_step} step failed.`)),
    el("ol", { class: "steps" }, t.steps.map((s) => el("li", { class: s.ok ? "ok" : "failed", dataset: { step: s.step } },
      el("span", { class: "mark", "aria-hidden": "true" }, s.ok ? "✓" : "✗"), el("strong", {}, `${s.step}: `),
      el("code", {}, s.result)))));
}

async function relaysSection() {
  const { items } = await api("GET", "/api/v1/relays");
  const rows = items.map((r) => {
    const out = el("div", { class: "test-out" });
    const row = el("tr", { dataset: { relay: r.name } },
      el("td", { "data-label": "Name" }, el("strong", {}, r.name)),
      el("td", { "data-label": "Server" }, `${r.host}:${r.port}`),
      el("td", { "data-label": "TLS" }, r.tls, r.tls_verify ? "" : " (not verified)"),
      el("td", { "data-label": "User" }, r.username || el("span", { class: "muted" }, "none"),
        r.has_password ? el("span", { class: "muted" }, " · password set") : ""),
      el("td", { "data-label": "Limits" }, r.rate ? `${r.rate}/s` : "unpaced", r.quota ? ` · ${r.quota}/${period(r.quota_period_s)}` : ""),
      el("td", {}, el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", onclick: async (ev) => {
          ev.target.disabled = true;
          out.replaceChildren(el("p", { class: "muted" }, "Connecting…"));
          try {
            out.replaceChildren(testResult(await api("POST", `/api/v1/relays/${encodeURIComponent(r.name)}/test`)));
          } catch (e) {
            out.replaceChildren(el("p", { class: "form-error", role: "alert" }, e.message));
          } finally {
            ev.target.disabled = false;
          }
        } }, "Test"),
        el("button", { type: "button", class: "danger", onclick: () => confirmRow(row, 6,
          `Remove the relay "${r.name}"? Messages waiting for it go through the other relays.`, "Remove", async () => {
            await api("DELETE", `/api/v1/relays/${encodeURIComponent(r.name)}`);
            toast(`Relay "${r.name}" removed.`);
            rerender();
          }) }, "Remove"))));
    return [row, el("tr", { class: "test-row" }, el("td", { colspan: 6 }, out))];
  });
  return el("div", {},
    items.length === 0 ? el("p", { class: "empty" }, "No relay yet: nothing can be sent until one is added.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards relays" },
        el("thead", {}, el("tr", {}, ["Name", "Server", "TLS", "User", "Limits"].map((h) => el("th", {}, h)),
          el("th", {}, el("span", { class: "muted" }, "Actions")))),
        el("tbody", {}, rows.flat()))),
    el("section", { class: "card" }, el("h2", {}, "Add a relay"), relayForm()));
}

// ---- DKIM keys ----

// the DNS record of key K, ready to copy
function recordView(k) {
  const value = el("textarea", { readonly: true, rows: 3, "aria-label": `TXT record of ${k.name}`, class: "record" }, k.record);
  const zone = el("textarea", { readonly: true, rows: 2, "aria-label": `Zone file line of ${k.name}`, class: "record" }, k.zone);
  return el("div", { class: "dns-record" },
    el("dl", { class: "facts" },
      el("dt", {}, "Name"), el("dd", {}, el("code", {}, k.name), " ", copyButton("Copy name", k.name)),
      el("dt", {}, "Type"), el("dd", {}, k.type || "TXT")),
    el("label", {}, "Value"), value, el("div", { class: "actions" }, copyButton("Copy value", k.record, value)),
    el("details", {}, el("summary", {}, "As a zone file's line"), zone,
      el("div", { class: "actions" }, copyButton("Copy line", k.zone, zone))));
}

function dkimForm() {
  const form = el("form", { class: "row", novalidate: true, "aria-label": "New DKIM key" },
    field({ label: "Domain", name: "domain", required: true, hint: "the From domain it signs for" }),
    field({ label: "Selector", name: "selector", hint: "one DNS label; empty: postino-YYYYMM-ALGORITHM" }),
    field({ label: "Algorithm", name: "algorithm", value: "rsa", options: [["rsa", "RSA 2048"], ["ed25519", "Ed25519"]] }),
    el("button", { type: "submit" }, "Make key"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const body = { domain: v.domain, algorithm: v.algorithm };
    if (v.selector) body.selector = v.selector;
    const k = await api("POST", "/api/v1/dkim-keys", body);
    toast(`Key ${k.selector} made for ${k.domain}: publish its record.`);
    await rerender();
  });
  return form;
}

async function dkimSection() {
  const { items } = await api("GET", "/api/v1/dkim-keys");
  return el("div", {},
    items.length === 0 ? el("p", { class: "empty" }, "No DKIM key yet: messages go out unsigned, and big mailbox providers refuse them.")
      : el("ul", { class: "keys" }, items.map((k) => {
        const item = el("li", { class: "card key", dataset: { key: k.name } },
          el("h3", {}, `${k.domain}`, el("span", { class: "muted" }, ` · selector ${k.selector} · ${k.algorithm}${k.bits ? ` ${k.bits}` : ""}`)),
          el("p", { class: "muted" }, "Publish this record in the domain's DNS zone:"),
          recordView(k),
          el("div", { class: "actions" }, el("button", { type: "button", class: "danger", onclick: () => {
            if (item.querySelector(".confirm")) return;
            const box = confirmBox(`Remove the key ${k.selector} of ${k.domain}? Messages from ${k.domain} are no longer signed with it.`,
              "Remove", async () => {
                await api("DELETE", `/api/v1/dkim-keys/${encodeURIComponent(k.id)}`);
                toast(`Key ${k.selector} removed.`);
                rerender();
              });
            item.append(box);
            box.querySelector("button").focus();
          } }, "Remove")));
        return item;
      })),
    el("section", { class: "card" }, el("h2", {}, "Make a key"), dkimForm()));
}

// ---- DNS check ----

const CHECK_NAMES = { spf: "SPF", dkim: "DKIM", dmarc: "DMARC", alignment: "Alignment", mx: "MX", ptr: "PTR" };

// the findings of report REP, each with its level, what was found and the fix to copy
function dnsReport(rep) {
  const summary = `${rep.ok} ok · ${rep.warnings} warning${rep.warnings === 1 ? "" : "s"} · ${rep.errors} error${rep.errors === 1 ? "" : "s"}`;
  return el("section", { class: "card dns-report", "aria-live": "polite" },
    el("h2", {}, `${rep.domain}`, el("span", { class: "muted" }, rep.ip ? ` · sending from ${rep.ip}` : " · no sending address given")),
    el("p", { class: rep.errors ? "dns-summary bad" : "dns-summary" }, summary,
      rep.bounce_domain !== rep.domain ? el("span", { class: "muted" }, ` · envelope domain ${rep.bounce_domain}`) : null),
    el("ul", { class: "findings" }, rep.findings.map((f) => el("li", { class: `finding lv-${f.level}`, dataset: { check: f.check, name: f.name } },
      el("div", { class: "finding-head" },
        el("span", { class: `badge lv-${f.level}` }, f.level),
        el("strong", {}, CHECK_NAMES[f.check] || f.check), " ", el("code", { class: "finding-name" }, f.name)),
      el("p", { class: "finding-msg" }, f.message),
      f.fix ? el("div", { class: "finding-fix" }, el("span", { class: "muted" }, "Fix: "), el("code", {}, f.fix), " ",
        copyButton("Copy fix", f.fix)) : null))));
}

async function dnsSection() {
  const { items } = await api("GET", "/api/v1/dkim-keys");
  const domains = [...new Set(items.map((k) => k.domain))];
  const out = el("div", { class: "dns-out" });
  const form = el("form", { class: "row", novalidate: true, "aria-label": "DNS check" },
    field({ label: "Domain", name: "domain", required: true, value: domains[0] || "", hint: "the From domain mail is sent with",
      attrs: { list: "dns-domains" } }),
    el("datalist", { id: "dns-domains" }, domains.map((d) => el("option", { value: d }))),
    field({ label: "Sending address", name: "ip", hint: "the IP mail leaves from; empty: [dns] ip" }),
    field({ label: "Selector", name: "selector", hint: "only this DKIM key; empty: every key" }),
    el("button", { type: "submit" }, "Check"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const q = new URLSearchParams({ domain: v.domain });
    if (v.ip) q.set("ip", v.ip);
    if (v.selector) q.set("selector", v.selector);
    out.replaceChildren(el("p", { class: "muted" }, `Asking the DNS about ${v.domain}…`));
    try {
      out.replaceChildren(dnsReport(await api("GET", `/api/v1/dns/check?${q}`)));
    } catch (e) {
      out.replaceChildren();
      throw e;
    }
  });
  return el("div", {},
    el("p", { class: "muted" }, "Asks the DNS now: SPF for the sending address, each DKIM key's record, DMARC and alignment, "
      + "MX of the bounce domain, the sending address's reverse name. Each finding comes with the record that fixes it."),
    el("section", { class: "card" }, form), out);
}

// ---- users ----

function userForm() {
  const form = el("form", { class: "row", novalidate: true, "aria-label": "New user" },
    field({ label: "Email", name: "email", type: "email", required: true }),
    field({ label: "Role", name: "role", value: "user", options: [["user", "user: lists, subscribers, campaigns"], ["admin", "admin: also users, relays, keys"]] }),
    field({ label: "First password", name: "password", type: "password", required: true, autocomplete: "new-password",
      hint: "tell it to them; they change it on their Account screen" }),
    el("button", { type: "submit" }, "Add user"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    const u = await api("POST", "/api/v1/users", { email: v.email, role: v.role, password: v.password });
    toast(`User ${u.email} added.`);
    rerender();
  });
  return form;
}

// the inline form setting user U's password
function passwordRow(row, u) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("confirm-row")) return;
  const form = el("form", { class: "row", novalidate: true, "aria-label": `New password for ${u.email}` },
    field({ label: `New password for ${u.email}`, name: "password", type: "password", required: true, autocomplete: "new-password" }),
    el("button", { type: "submit" }, "Set password"),
    el("button", { type: "button", class: "secondary", onclick: () => tr.remove() }, "Cancel"),
    el("div", { class: "form-error", role: "alert" }));
  onSubmit(form, async (v) => {
    await api("POST", `/api/v1/users/${encodeURIComponent(u.id)}/password`, { password: v.password });
    toast(`The password of ${u.email} is set; their sessions have ended.`);
    rerender();
  });
  const tr = el("tr", { class: "confirm-row" }, el("td", { colspan: 5 }, el("div", { class: "card" }, form)));
  row.after(tr);
  form.querySelector("input").focus();
}

async function usersSection(users) {
  const self = me();
  const rows = users.map((u) => {
    const isMe = self && self.id === u.id;
    const row = el("tr", { dataset: { user: u.email }, class: u.active ? "" : "disabled" },
      el("td", { "data-label": "Email" }, el("strong", {}, u.email), isMe ? el("span", { class: "muted" }, " (you)") : ""),
      el("td", { "data-label": "Role" }, u.role),
      el("td", { "data-label": "State" }, u.active ? "active" : "disabled"),
      el("td", { "data-label": "Tokens", class: "num" }, String(u.tokens)),
      el("td", {}, isMe ? el("span", { class: "muted" }, "yourself: see Account") : el("div", { class: "actions" },
        el("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            await api("POST", `/api/v1/users/${encodeURIComponent(u.id)}/${u.active ? "disable" : "enable"}`);
            toast(`${u.email} ${u.active ? "disabled: their sessions and tokens stop working" : "enabled"}.`);
            rerender();
          } catch (e) {
            if (!e.sessionEnded) toast(e.message);
          }
        } }, u.active ? "Disable" : "Enable"),
        el("button", { type: "button", class: "secondary", onclick: () => passwordRow(row, u) }, "Reset password"),
        el("button", { type: "button", class: "danger", onclick: () => confirmRow(row, 5,
          `Remove the user ${u.email} and their ${u.tokens} token${u.tokens === 1 ? "" : "s"}?`, "Remove", async () => {
            await api("DELETE", `/api/v1/users/${encodeURIComponent(u.id)}`);
            toast(`${u.email} removed.`);
            rerender();
          }) }, "Remove"))));
    return row;
  });
  return el("div", {},
    el("div", { class: "table-wrap" }, el("table", { class: "cards users" },
      el("thead", {}, el("tr", {}, ["Email", "Role", "State"].map((h) => el("th", {}, h)), el("th", { class: "num" }, "Tokens"),
        el("th", {}, el("span", { class: "muted" }, "Actions")))),
      el("tbody", {}, rows))),
    el("section", { class: "card" }, el("h2", {}, "Add a user"), userForm()));
}

async function render(args) {
  const which = SECTIONS.find(([p]) => p === args[0]) ? args[0] : "relays";
  let users;
  try {
    // an admin's call: for anyone else the server answers 403, whatever this page would show
    ({ items: users } = await api("GET", "/api/v1/users"));
  } catch (e) {
    if (e.status === 403) {
      const err = new Error("Settings are for administrators: the server refused them to your account (403 forbidden). "
        + "Your own password and API tokens are on the Account screen.");
      err.status = 403;
      throw err;
    }
    throw e;
  }
  const body = which === "relays" ? await relaysSection() : which === "dkim" ? await dkimSection()
    : which === "dns" ? await dnsSection() : await usersSection(users);
  return el("section", { class: "settings" },
    el("h1", {}, "Settings"),
    el("nav", { class: "tabs", "aria-label": "Settings" }, SECTIONS.map(([p, label]) =>
      el("a", { href: `#/settings/${p}`, "aria-current": p === which ? "page" : null }, label))),
    el("h2", { class: "section-title" }, SECTIONS.find(([p]) => p === which)[1]),
    body);
}

export const screen = { path: "settings", title: "Settings", render, adminOnly: true };
