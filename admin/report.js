// report.js - a campaign's report (#/report/ID): live progress while it
// runs; delivered, deferred, failed, bounced by class, complaints and
// unsubscribes; every failed and deferred recipient with the relay's reply,
// and one button that sends the failed ones again (the same ledger rows:
// nobody already sent gets a second message); opens and clicks over time and
// per link; an A/B test's variants side by side, the winner marked (or a button
// to pick it); the recipients by domain and by mailbox provider (what Postfix's
// log told, the bounces and complaints, the time to delivery). #/report alone
// lists the campaigns.

import { api, el, rerender, toast } from "/admin/app.js";
import { providerTable } from "/admin/providers.js";
import { barChart, duration, num, pct, poll, progress, statusBadge, when } from "/admin/widgets.js";

const LIVE_MS = 3000;
const PAGE = 50;

// the campaigns, newest first, each a link to its report
async function pick() {
  const { items } = await api("GET", "/api/v1/campaigns");
  return el("section", {},
    el("h1", {}, "Reports"),
    items.length === 0 ? el("p", { class: "empty" }, "No campaigns yet.")
      : el("div", { class: "table-wrap" }, el("table", { class: "cards" },
        el("thead", {}, el("tr", {}, el("th", {}, "Campaign"), el("th", {}, "Status"), el("th", {}, "Subject"),
          el("th", {}, "Created"))),
        el("tbody", {}, items.map((c) => el("tr", {},
          el("td", { "data-label": "Campaign" }, el("a", { href: `#/report/${c.id}` }, c.name)),
          el("td", { "data-label": "Status" }, statusBadge(c.status)),
          el("td", { "data-label": "Subject" }, c.subject),
          el("td", { "data-label": "Created" }, when(c.created_at))))))));
}

function tile(label, value, sub, key) {
  return el("div", { class: "tile", dataset: { key } },
    el("div", { class: "tile-label" }, label),
    el("div", { class: "tile-value" }, value),
    sub ? el("div", { class: "tile-sub muted" }, sub) : null);
}

function progressPart(st) {
  const live = st.status === "running";
  return el("div", {},
    progress(st),
    el("dl", { class: "facts" },
      el("dt", {}, "Status"), el("dd", { id: "report-status" }, statusBadge(st.status)),
      el("dt", {}, "Rate"), el("dd", {}, live ? `${st.rate_per_s ?? 0}/s over the last minute` : "–"),
      el("dt", {}, "ETA"), el("dd", {}, live ? duration(st.eta_s) : "–"),
      el("dt", {}, "Next retry"), el("dd", {}, st.next_retry_at ? when(st.next_retry_at) : "–"),
      el("dt", {}, "Started"), el("dd", {}, when(st.started_at) || "not yet"),
      el("dt", {}, "Finished"), el("dd", {}, when(st.finished_at) || "not yet"),
      el("dt", {}, "Senders"), el("dd", {}, st.senders.length
        ? st.senders.map((s) => `${s.name}: ${s.status}`).join("; ") : "none seen in the last 10 s")));
}

function outcomePart(st, rep) {
  const b = st.bounces || {};
  const bounced = ["hard", "soft", "policy", "unknown"].reduce((s, k) => s + (b[k] || 0), 0);
  const tracked = (on, c) => (on || c.total ? num(c.unique) : "–");
  const trackedSub = (on, c) => (on || c.total ? `unique; ${num(c.total)} in all` : "not tracked");
  return el("div", { class: "tiles" },
    tile("Delivered", num(st.sent), `${pct(st.sent, st.total)} of ${num(st.total)}`, "sent"),
    tile("Queued", num(st.queued), st.audience && st.audience.making
      ? `audience being made: ${num(st.audience.made)} of about ${num(st.audience.estimated)}` : null, "queued"),
    tile("Deferred", num(st.deferred), "retried later", "deferred"),
    tile("Failed", num(st.failed), null, "failed"),
    tile("Skipped", num(st.skipped + st.cancelled), "left or cancelled before sending", "skipped"),
    tile("Bounced", num(bounced), ["hard", "soft", "policy", "unknown"].filter((k) => b[k])
      .map((k) => `${k} ${num(b[k])}`).join(" · ") || null, "bounced"),
    tile("Complaints", num(b.complaint || 0), pct(b.complaint || 0, st.sent, 2), "complaints"),
    tile("Unsubscribes", num(rep.unsubscribes), "through the message's link", "unsubscribes"),
    tile("Opens", tracked(st.track_opens, st.opens), trackedSub(st.track_opens, st.opens), "opens"),
    tile("Clicks", tracked(st.track_clicks, st.clicks), trackedSub(st.track_clicks, st.clicks), "clicks"));
}

// one state's deliveries (failed or deferred) by keyset pages, with the relay's reply
function recipientList(id, state) {
  const body = el("tbody");
  const more = el("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const empty = el("p", { class: "empty", hidden: true }, `No ${state} recipients.`);
  const table = el("table", { class: "cards recipients", dataset: { state } },
    el("thead", {}, el("tr", {},
      el("th", {}, "Recipient"), el("th", {}, "Reply"), el("th", {}, "Class"), el("th", { class: "num" }, "Attempts"),
      el("th", {}, state === "deferred" ? "Next attempt" : "Last attempt"))),
    body);
  let after = 0;
  let pages = 0;
  const load = async (fresh) => {
    if (fresh) after = 0;
    pages = fresh ? 1 : pages + 1;
    const page = await api("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/deliveries?state=${state}&limit=${PAGE}&after=${after}`);
    const rows = page.items.map((x) => el("tr", { dataset: { delivery: String(x.id) } },
      el("td", { "data-label": "Recipient" }, el("div", {}, x.email), x.name ? el("div", { class: "muted" }, x.name) : null),
      el("td", { "data-label": "Reply", class: "reply" },
        x.smtp_code || x.smtp_reply ? `${x.smtp_code ?? ""} ${x.smtp_enhanced ?? ""} ${x.smtp_reply ?? ""}`.trim() : "no reply"),
      el("td", { "data-label": "Class" }, x.bounce_class || "–"),
      el("td", { "data-label": "Attempts", class: "num" }, num(x.attempts)),
      el("td", { "data-label": state === "deferred" ? "Next attempt" : "Last attempt" },
        when(state === "deferred" ? x.next_attempt_at : x.updated_at))));
    if (fresh) body.replaceChildren(...rows);
    else body.append(...rows);
    after = page.next_after || 0;
    more.hidden = !page.next_after;
    table.hidden = body.children.length === 0;
    empty.hidden = body.children.length > 0;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try { await load(false); } catch (e) { if (!e.sessionEnded) toast(e.message); } finally { more.disabled = false; }
  });
  // refresh - the first page again, unless more pages were asked for (they stay as read)
  const refresh = () => (pages <= 1 ? load(true) : Promise.resolve());
  return { node: el("div", {}, el("div", { class: "table-wrap" }, table), empty, more), load, refresh };
}

// the retry: a button from the counters; what a dry run says may be retried (it reads every failed
// delivery of the campaign, so only when asked), then the retry itself once confirmed
function retryPart(id) {
  const box = el("div", { class: "retry" });
  const url = `/api/v1/campaigns/${encodeURIComponent(id)}/retry`;
  const note = el("p", { class: "muted" }, "A retry is a new attempt on the same ledger rows: nobody who was sent this message gets it again.");
  const fail = (e) => { if (!e.sessionEnded) box.append(el("p", { class: "form-error", role: "alert" }, e.message)); };
  // confirm - what the dry run said, with the button that retries
  const confirm = (dry, open) => {
    const nr = dry.not_retried;
    const why = [
      nr.accepted ? `${num(nr.accepted)} accepted by a relay once` : null,
      nr.suppressed ? `${num(nr.suppressed)} whose address is now blocklisted, disabled or unsubscribed` : null,
      nr.class ? `${num(nr.class)} hard bounce${nr.class === 1 ? "" : "s"} (the mailbox or domain does not exist)` : null,
    ].filter(Boolean);
    const button = el("button", { type: "button", class: "retry-button", disabled: dry.retryable === 0 },
      dry.retryable === 0 ? "Nothing to retry" : `Retry ${num(dry.retryable)} failed deliver${dry.retryable === 1 ? "y" : "ies"}`);
    const cancel = el("button", { type: "button", class: "secondary retry-cancel" }, "Cancel");
    cancel.addEventListener("click", () => { box.replaceChildren(open, note); open.focus(); });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const r = await api("POST", url, {});
        toast(`${num(r.requeued)} failed deliver${r.requeued === 1 ? "y" : "ies"} queued again; the campaign is ${r.status}.`);
        rerender();
      } catch (e) {
        fail(e);
        button.disabled = false;
      }
    });
    box.replaceChildren(el("div", { class: "actions" }, button, cancel),
      el("p", { class: "muted retry-summary" }, `Of ${num(dry.failed)} failed, ${num(dry.retryable)} can be tried again.`,
        why.length ? ` Not retried: ${why.join("; ")}.` : ""), note);
    (dry.retryable === 0 ? cancel : button).focus();
  };
  const draw = async (st) => {
    if (!["running", "paused", "finished"].includes(st.status) || st.failed === 0) {
      box.replaceChildren();
      return;
    }
    if (box.querySelector(".retry-button")) return;   // a confirmation on screen stays until answered
    const open = el("button", { type: "button", class: "retry-open" },
      `Retry failed deliveries (${num(st.failed)} failed)…`);
    open.addEventListener("click", async () => {
      open.disabled = true;
      try {
        confirm(await api("POST", url, { dry_run: true }), open);
      } catch (e) {
        fail(e);
      } finally {
        open.disabled = false;
      }
    });
    box.replaceChildren(open, note);
  };
  return { node: box, draw };
}

function timelinePart(st, rep) {
  const t = rep.timeline;
  if (!st.track_opens && !st.track_clicks && !st.opens.total && !st.clicks.total)
    return el("p", { class: "muted" }, "Opens and clicks were not tracked for this campaign.");
  if (t.points.length === 0) return el("p", { class: "empty" }, "Nothing yet: the campaign has not started.");
  const label = (at) => (t.bucket === "hour" ? when(at).slice(5) : when(at).slice(5, 10));
  const pts = (k) => t.points.map((p) => ({ label: label(p.at), long: when(p.at), value: p[k] }));
  const unit = t.bucket === "hour" ? "per hour" : "per day";
  return el("div", { class: "charts charts-2" },
    barChart({ id: "chart-opens", title: `First opens ${unit}`, points: pts("opens") }),
    barChart({ id: "chart-clicks", title: `First clicks ${unit}`, points: pts("clicks") }));
}

function linksPart(st) {
  if (!st.links.length) return el("p", { class: "muted" }, st.track_clicks ? "No links in the message." : "Clicks were not tracked.");
  return el("div", { class: "table-wrap" }, el("table", { class: "cards links" },
    el("thead", {}, el("tr", {}, el("th", {}, "Link"), el("th", { class: "num" }, "Unique"), el("th", { class: "num" }, "Total"))),
    el("tbody", {}, st.links.map((l) => el("tr", {},
      el("td", { "data-label": "Link", class: "url" }, l.url),
      el("td", { "data-label": "Unique", class: "num" }, num(l.unique)),
      el("td", { "data-label": "Total", class: "num" }, num(l.total)))))));
}

// abPart - an A/B test's variants (sent, unique opens and clicks, rates), the winner marked; before it is
// picked, a button per variant sends that one to the rest now
function abPart(st, id) {
  const ab = st.ab;
  const rate = (r) => (r === null ? "–" : `${r}%`);
  const open = !ab.winner && (st.status === "running" || st.status === "paused") && ab.test_size !== null;
  const choose = async (n, button) => {
    button.disabled = true;
    try {
      await api("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/ab/pick`, { variant: n });
      toast(`Variant ${n} goes to the rest.`);
      rerender();
    } catch (e) {
      button.disabled = false;
      if (!e.sessionEnded) toast(e.message);
    }
  };
  const state = ab.winner ? `Variant ${ab.winner} won (${ab.decided_by === "auto" ? "picked automatically" : "picked by hand"} ${when(ab.decided_at)}) and went to the rest.`
    : ab.test_size === null ? `The sample (${ab.sample}) is chosen when the campaign starts.`
    : `${num(ab.test_size)} in the sample, ${num(ab.held)} waiting for the winner; by unique ${ab.metric}, ${ab.pick === "auto" ? `picked automatically ${when(ab.window_ends_at)}` : "picked by you"}.`;
  return el("div", {},
    el("p", { class: "ab-state" }, state),
    el("div", { class: "table-wrap" }, el("table", { class: "cards ab-variants" },
      el("thead", {}, el("tr", {}, el("th", {}, "Variant"), el("th", {}, "Subject"), el("th", { class: "num" }, "Sent"),
        el("th", { class: "num" }, "Unique opens"), el("th", { class: "num" }, "Unique clicks"), open ? el("th", {}, "") : null)),
      el("tbody", {}, ab.variants.map((v) => el("tr", { class: v.n === ab.winner ? "winner" : "", dataset: { variant: String(v.n) } },
        el("td", { "data-label": "Variant" }, `${v.n}`, v.n === ab.winner ? el("span", { class: "badge status-finished" }, "winner") : null),
        el("td", { "data-label": "Subject" }, v.subject, v.own_body ? el("span", { class: "muted" }, " (own body)") : null),
        el("td", { "data-label": "Sent", class: "num" }, num(v.sent)),
        el("td", { "data-label": "Unique opens", class: "num" }, `${num(v.opens)} · ${rate(v.open_rate)}`),
        el("td", { "data-label": "Unique clicks", class: "num" }, `${num(v.clicks)} · ${rate(v.click_rate)}`),
        open ? el("td", {}, (() => {
          const b = el("button", { type: "button", class: "secondary small" }, `Send ${v.n} to the rest`);
          b.addEventListener("click", () => choose(v.n, b));
          return b;
        })()) : null))))));
}

function domainsTable(d) {
  const row = (x, name) => el("tr", {},
    el("td", { "data-label": "Domain" }, name),
    el("td", { "data-label": "Recipients", class: "num" }, num(x.total)),
    el("td", { "data-label": "Sent", class: "num" }, num(x.sent)),
    el("td", { "data-label": "Deferred", class: "num" }, num(x.deferred)),
    el("td", { "data-label": "Failed", class: "num" }, num(x.failed)),
    el("td", { "data-label": "Queued", class: "num" }, num(x.queued)),
    el("td", { "data-label": "Skipped", class: "num" }, num(x.skipped + x.cancelled)));
  if (d.domains.length === 0) return el("p", { class: "empty" }, "No recipients yet.");
  return el("div", {}, el("p", { class: "muted domains-counted" }, `Counted ${when(d.counted_at)}.`),
    el("div", { class: "table-wrap" }, el("table", { class: "cards domains" },
    el("thead", {}, el("tr", {}, el("th", {}, "Domain"), el("th", { class: "num" }, "Recipients"),
      el("th", { class: "num" }, "Sent"), el("th", { class: "num" }, "Deferred"), el("th", { class: "num" }, "Failed"),
      el("th", { class: "num" }, "Queued"), el("th", { class: "num" }, "Skipped"))),
    el("tbody", {}, d.domains.map((x) => row(x, x.domain)),
      d.other_domains ? row(d.other_domains, `${num(d.other_domains.domains)} other domains`) : null))));
}

function section(title, id, ...children) {
  return el("section", { class: "card", "aria-labelledby": id, id: `${id}-section` }, el("h2", { id }, title), ...children);
}

async function report(id) {
  const base = `/api/v1/campaigns/${encodeURIComponent(id)}`;
  let [st, rep] = await Promise.all([api("GET", `${base}/stats`), api("GET", `${base}/report`)]);
  const failed = recipientList(id, "failed");
  const deferred = recipientList(id, "deferred");
  const retry = retryPart(id);
  const parts = {
    progress: el("div", {}, progressPart(st)),
    outcome: el("div", {}, outcomePart(st, rep)),
    timeline: el("div", {}, timelinePart(st, rep)),
    links: el("div", {}, linksPart(st)),
    ab: el("div", {}, st.ab ? abPart(st, id) : null),
    domains: el("div", { "aria-busy": "true" }, el("p", { class: "muted" }, "Counting the recipients by domain…")),
    providers: el("div", { "aria-busy": "true" }, el("p", { class: "muted" }, "Counting by mailbox provider…")),
  };
  const liveLine = el("p", { class: "muted live" });
  const errline = el("p", { class: "form-error", role: "alert" });
  const setLive = () => {
    liveLine.textContent = st.status === "running" ? `Live: refreshed every ${LIVE_MS / 1000} s while it runs.`
      : `Last read ${when(new Date().toISOString())}.`;
  };
  setLive();
  const node = el("section", { class: "report", dataset: { campaign: String(id), status: st.status } },
    el("p", { class: "crumbs" }, el("a", { href: "#/report" }, "Reports"), " · ",
      el("a", { href: `#/campaigns/${encodeURIComponent(id)}` }, "The campaign")),
    el("h1", {}, "Report: ", st.name, " ", statusBadge(st.status)),
    liveLine, errline,
    section("Progress", "h-progress", parts.progress),
    section("Outcome", "h-outcome", parts.outcome),
    st.ab ? section("A/B test", "h-ab", parts.ab) : null,
    section("Failed recipients", "h-failed", retry.node, failed.node),
    section("Deferred recipients", "h-deferred", deferred.node),
    section("Opens and clicks over time", "h-timeline", parts.timeline),
    section("Clicks per link", "h-links", parts.links),
    section("By recipient domain", "h-domains", parts.domains),
    section("By mailbox provider", "h-providers", parts.providers));
  await Promise.all([failed.load(true), deferred.load(true), retry.draw(st)]);
  // the domains are the costly part (every delivery of the campaign, counted at most once a minute
  // while it runs, kept once it is over): asked for apart, once, and once more when a running
  // campaign ends
  const loadDomains = () => api("GET", `${base}/domains`).then((d) => {
    parts.domains.replaceChildren(domainsTable(d));
    parts.domains.removeAttribute("aria-busy");
  }).catch((e) => { if (!e.sessionEnded) parts.domains.replaceChildren(el("p", { class: "form-error" }, e.message)); });
  loadDomains();
  // by provider: what Postfix's log told of each delivery (postino mta follow) and the bounces
  const loadProviders = () => api("GET", `${base}/providers`).then((p) => {
    parts.providers.replaceChildren(providerTable(p.providers, "report-providers"));
    parts.providers.removeAttribute("aria-busy");
  }).catch((e) => { if (!e.sessionEnded) parts.providers.replaceChildren(el("p", { class: "form-error" }, e.message)); });
  loadProviders();

  // live: the counters and the deferred every few seconds while it runs; the rest when the counters moved
  // live, while it runs, every few seconds: the counters and the outcome, the failed when there are more,
  // the deferred (a deferral tried again moves no counter); what reads all of the campaign's opens or
  // failures (the timeline, what Retry would do) every thirty seconds and when the status changes
  const SLOW = 10;
  let ticks = 0;
  if (st.status === "running") {
    poll(node, LIVE_MS, async () => {
      const next = await api("GET", `${base}/stats`);
      const ended = next.status !== st.status;
      const moreFailed = next.failed !== st.failed;
      st = next;
      ticks += 1;
      parts.progress.replaceChildren(progressPart(st));
      if (ended || ticks % SLOW === 0) {
        rep = await api("GET", `${base}/report`);
        parts.timeline.replaceChildren(timelinePart(st, rep));
        await retry.draw(st);
        loadProviders();
      }
      parts.outcome.replaceChildren(outcomePart(st, rep));
      parts.links.replaceChildren(linksPart(st));
      if (st.ab) parts.ab.replaceChildren(abPart(st, id));
      await Promise.all([moreFailed || ended ? failed.refresh() : null, deferred.refresh(), ended ? loadDomains() : null]);
      node.dataset.status = st.status;
      node.querySelector("h1 .badge").replaceWith(statusBadge(st.status));
      setLive();
      return st.status === "running";   // finished, paused or cancelled: nothing moves any more
    }, errline);
  }
  return node;
}

async function render(args) {
  return args[0] ? report(args[0]) : pick();
}

export const screen = { path: "report", title: "Reports", render };
