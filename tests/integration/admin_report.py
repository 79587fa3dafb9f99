"""admin_report - the Dashboard, Reports and Bounces screens in a real headless
Chromium, one phase at a time (test_admin_report.sh runs each when the
campaign is where the phase needs it):

  dashboard-warn C L PORT  the warnings (a relay that does not answer, no DKIM key for L's From
                       domain), C in progress, markup in its name shown as text
  live C               C's report while it runs: failed and deferred recipients
                       with Postfix's replies, live; leaving it stops its polling
  finished C           C finished: three failed with their replies, Retry (by
                       keyboard) sends the two that may be, the report follows
  bounces C DSN        the list filtered by class and campaign, a wrong filter
                       named beside its field, the DSN's fields and raw report
  end C L              the charts with their tables, the tracked opens, clicks and
                       links, the domains, the reports list

Screenshots SHOTS/report-*.png, at 1280 px (the whole page) and 390 px (no
sideways scrolling). Waits for states, never for a fixed time.

usage: admin_report.py API_URL SHOTS_DIR PHASE ARGS...   (prints "ok N steps")
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from admin_lib import capture, go, login, session, step, tab_reaches, texts, until_shows

API, SHOTS, PHASE, ARGS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
XSS = "<script>alert(1)</script>"


def whole(d, w, name, width=1280):
    """SHOTS/report-NAME.png: the whole page at WIDTH px, with no sideways scrolling"""
    capture(d, w, SHOTS, f"report-{name}", width, whole=True)


def no_markup(d):
    """subscriber data and names were shown as text: no element came of them"""
    for css in ("main script", "main img", "main b"):
        assert not d.find_elements(By.CSS_SELECTOR, css), f"markup became an element: {css}"


def polls(d):
    return d.execute_script("return document.documentElement.dataset.polls || '0'")


def rows(d, state):
    """the recipients listed as STATE: (email, name, reply) each"""
    return d.execute_script("""
        return [...document.querySelectorAll(`table.recipients[data-state="${arguments[0]}"] tbody tr`)].map((tr) => {
            const who = tr.querySelector("td");
            const name = who.querySelector(".muted");
            return [who.firstChild.textContent, name ? name.textContent : "", tr.querySelector("td.reply").textContent];
        })""", state)


def report_now(d):
    """the report as shown at one moment: (status, failed recipients, {tile: value}) (a screen drawn
    again is never read half old, half new)"""
    return d.execute_script("""
        const r = document.querySelector("section.report");
        if (!r) return null;
        const failed = [...r.querySelectorAll('table.recipients[data-state="failed"] tbody tr td:first-child')]
            .map((td) => td.firstChild.textContent);
        const tiles = Object.fromEntries([...r.querySelectorAll(".tile")].map((t) =>
            [t.querySelector(".tile-label").textContent, t.querySelector(".tile-value").textContent]));
        return [r.dataset.status, failed, tiles];""")


def dashboard_warn(d, w, c, l, dead):
    step("the dashboard: the relay that does not answer, the missing DKIM key, the campaign in progress")
    go(d, w, API, "", "Dashboard")
    # the dashboard draws itself again every few seconds: what it shows is read at one moment
    until_shows(w, lambda dr: dr.execute_script("""
        const q = (css) => document.querySelector(css);
        const bar = q(`tr[data-campaign='${arguments[0]}'] .progress`);
        return [q("li.warning[data-code=relay]")?.innerText, q("li.warning[data-code=no_dkim] span")?.innerText,
                q("li.warning[data-code=no_dkim] a")?.getAttribute("href"),
                [...document.querySelectorAll(".progress-table tbody td:first-child")].map((td) => td.innerText),
                bar && / of 11$/.test(bar.getAttribute("aria-label"))];""", c),
                [f"relay local did not answer (cannot connect to 127.0.0.1:{dead}: connection refused): "
                 "deliveries wait to be tried again",
                 'no DKIM key for nodkim.example: the messages of "Later" go out unsigned', f"#/report/{l}",
                 ["Spring <b>sale</b>", "Later"], True])
    no_markup(d)
    assert polls(d) == "1", polls(d)
    assert [a.text for a in d.find_elements(By.CSS_SELECTOR, "#nav a")][:1] == ["Dashboard"]
    whole(d, w, "dashboard-warn")
    whole(d, w, "dashboard-warn-390", 390)


def live(d, w, c):
    step("the running campaign's report: failed and deferred recipients with Postfix's replies")
    go(d, w, API, f"report/{c}", "Report")
    assert d.find_element(By.CSS_SELECTOR, "main h1").text.startswith("Report: Spring <b>sale</b>")
    w.until(lambda dr: len(rows(dr, "failed")) == 3 and len(rows(dr, "deferred")) == 1)
    failed = rows(d, "failed")
    assert [(e, n) for e, n, _ in failed] == [
        ("user3@example.org", "User 3"), ("user5@example.org", "User 5"), ("xss@example.org", XSS)], failed
    assert failed[0][2].startswith("550 5.7.1 ") and "refused by local policy" in failed[0][2], failed
    assert failed[1][2].startswith("550 5.1.1 ") and "no such user" in failed[1][2], failed
    deferred = rows(d, "deferred")
    assert deferred[0][0] == "user2@example.org" and deferred[0][2].startswith("451 4.3.0 "), deferred
    assert d.find_element(By.CSS_SELECTOR, "section.report").get_attribute("data-status") == "running"
    assert "Live: refreshed every 3 s" in d.find_element(By.CSS_SELECTOR, "p.live").text
    no_markup(d)
    w.until(lambda dr: polls(dr) == "1")
    whole(d, w, "running")
    whole(d, w, "running-390", 390)

    step("leaving the report stops its polling")
    d.find_element(By.CSS_SELECTOR, "#nav a[href='#/bounces']").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Bounces"))
    w.until(lambda dr: polls(dr) == "0")


def finished(d, w, c):
    step("the finished report: three failed with their replies, what Retry will do")
    go(d, w, API, f"report/{c}", "Report")
    w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, "section.report").get_attribute("data-status") == "finished")
    w.until(lambda dr: len(rows(dr, "failed")) == 3)
    assert [e for e, _, _ in rows(d, "failed")] == ["user3@example.org", "user5@example.org", "xss@example.org"]
    assert not d.find_element(By.CSS_SELECTOR, "table.recipients[data-state=deferred]").is_displayed()
    opener = w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.retry-open")))
    assert opener.text == "Retry failed deliveries (3 failed)…", opener.text
    assert not d.find_elements(By.CSS_SELECTOR, "button.retry-button"), "the dry run ran before it was asked for"
    step("Retry asks first (a dry run), by keyboard: what will be retried and what not")
    d.execute_script("arguments[0].focus()", opener)
    d.switch_to.active_element.send_keys(Keys.ENTER)
    button = w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.retry-button")))
    assert button.text == "Retry 2 failed deliveries", button.text
    assert d.switch_to.active_element == button, "the confirmation does not take the focus"
    note = d.find_element(By.CSS_SELECTOR, ".retry p.retry-summary").text
    assert note == ("Of 3 failed, 2 can be tried again. "
                    "Not retried: 1 whose address is now blocklisted, disabled or unsubscribed."), note
    tiles = dict(zip(texts(d, ".tile .tile-label"), texts(d, ".tile .tile-value")))
    assert (tiles["Delivered"], tiles["Failed"], tiles["Bounced"]) == ("8", "3", "3"), tiles
    assert polls(d) == "0", "a finished report still polls"
    no_markup(d)
    whole(d, w, "finished")
    whole(d, w, "finished-390", 390)

    step("Retry, by keyboard: the two go back to the queue and are sent; the report follows to the end")
    d.execute_script("arguments[0].focus()", button)
    d.switch_to.active_element.send_keys(Keys.ENTER)
    w.until(EC.text_to_be_present_in_element((By.ID, "toast"),
                                             "2 failed deliveries queued again; the campaign is running."))
    w.until(lambda dr: (lambda r: r and r[0] == "finished" and r[1] == ["user5@example.org"]
                        and (r[2]["Delivered"], r[2]["Queued"], r[2]["Failed"]) == ("10", "0", "1"))(report_now(dr)))
    w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, "button.retry-open").text
            == "Retry failed deliveries (1 failed)…")
    d.find_element(By.CSS_SELECTOR, "button.retry-open").click()
    w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, "button.retry-button").text == "Nothing to retry")
    assert not d.find_element(By.CSS_SELECTOR, "button.retry-button").is_enabled()
    d.find_element(By.CSS_SELECTOR, "button.retry-cancel").click()
    w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.retry-open")))
    whole(d, w, "retried")


def bounces(d, w, c, dsn):
    step("bounces: the rules, the policy, the list filtered by class and campaign")
    go(d, w, API, "bounces", "Bounces")
    w.until(lambda dr: len(texts(dr, "table.bounces tbody tr")) > 0)
    assert len(texts(d, "table.rules tbody tr")) == 7
    assert texts(d, "table.policy tbody td:first-child") == ["hard", "soft", "complaint", "policy", "unknown"]
    assert texts(d, "table.policy tr[data-cls=policy] td:last-child")[0].startswith("nothing, ever (a sending problem")
    classes = texts(d, "table.bounces tbody td:nth-child(3)")
    assert "policy sending problem" in classes and all(c == "policy sending problem" for c in classes if c.startswith("policy")), classes
    w.until(lambda dr: texts(dr, "table.unmatched tbody td:nth-child(5)")[:1] == ["not a bounce"])
    whole(d, w, "bounces-all")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='Filter bounces']")
    Select(form.find_element(By.NAME, "class")).select_by_value("hard")
    form.find_element(By.NAME, "campaign").send_keys(str(c), Keys.ENTER)
    w.until(lambda dr: texts(dr, "table.bounces tbody td:nth-child(2)") == ["user9@example.org", "user5@example.org"])
    assert texts(d, "table.bounces tbody td:nth-child(5)")[0].startswith("550 5.1.1 <user9@example.org>: Recipient")
    no_markup(d)
    whole(d, w, "bounces")
    whole(d, w, "bounces-390", 390)

    step("a wrong filter is named beside its field")
    field = d.find_element(By.CSS_SELECTOR, "form[aria-label='Filter bounces'] input[name=campaign]")
    field.clear()
    field.send_keys("0", Keys.ENTER)
    err = w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, ".field[data-field=campaign] .error").text)
    assert err == "campaign must be a campaign id", err

    step("one bounce: its fields, and the report as received, as text")
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Filter bounces'] input[name=campaign]").clear()
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Filter bounces'] button[type=submit]").click()
    link = w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"tr[data-bounce='{dsn}'] a")))
    link.click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), f"Bounce {dsn}"))
    facts = dict(zip(texts(d, "dl.facts dt"), texts(d, "dl.facts dd")))
    assert (facts["Email"], facts["Class"], facts["Status"], facts["Source"], facts["Campaign"]) == \
        ("user9@example.org", "hard", "5.1.1", "dsn", str(c)), facts
    raw = d.find_element(By.CSS_SELECTOR, "pre.raw").get_attribute("textContent")
    assert "X-Test: <script>alert(3)</script>" in raw and "Final-Recipient: rfc822; user9@example.org" in raw, raw[:300]
    no_markup(d)
    whole(d, w, "bounce")
    whole(d, w, "bounce-390", 390)


def charts_now(d):
    """the dashboard's charts as shown at one moment: ({chart: its data-total}, the rows of the sent chart's
    table, the sent chart's title)"""
    return d.execute_script("""
        const totals = {};
        for (const k of ["sent", "bounces", "complaints", "unsubscribes", "subscribers"]) {
            const chart = document.getElementById(`chart-${k}`);
            totals[k] = chart ? chart.getAttribute("data-total") : null;
        }
        const rows = [...document.querySelectorAll("#chart-sent table tbody tr")].map((r) => [...r.cells].map((c) => c.textContent));
        const title = document.querySelector("#chart-sent svg title");
        return [totals, rows, title ? title.textContent : ""];""")


def end(d, w, c, l):
    step("the dashboard: the day's figures in the charts and their tables, the warnings")
    go(d, w, API, "", "Dashboard")
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, "li.warning[data-code=complaint_rate]"))
    # the charts are drawn again when a refresh brings other days' figures (the last events may come in
    # after the first drawing): wait for the day's figures, each reading at one moment
    until_shows(w, lambda dr: charts_now(dr)[0],
                {"sent": "10", "bounces": "9", "complaints": "1", "unsubscribes": "1", "subscribers": "11"})
    _, cells, title = charts_now(d)
    assert len(cells) == 30 and cells[-1][1] == "10" and cells[0][1] == "0", cells[-3:]
    assert title.startswith("Sent: 10 in all; the most 10"), title
    assert texts(d, ".progress-table tbody td:first-child") == ["Later"]
    assert not d.find_elements(By.CSS_SELECTOR, "li.warning[data-code=relay]")
    whole(d, w, "dashboard")
    whole(d, w, "dashboard-390", 390)
    d.find_element(By.CSS_SELECTOR, "#chart-sent summary").click()
    w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, "#chart-sent table").is_displayed())
    whole(d, w, "dashboard-table")

    step("the report: opens and clicks over time and per link, the domains")
    go(d, w, API, f"report/{c}", "Report")
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, "table.domains"))
    assert d.find_element(By.ID, "chart-opens").get_attribute("data-total") == "1"
    assert d.find_element(By.ID, "chart-clicks").get_attribute("data-total") == "1"
    assert texts(d, "table.links tbody tr") == ["https://example.com/offer\t1\t1"], texts(d, "table.links tbody tr")
    assert texts(d, "table.domains tbody tr") == ["example.org\t11\t10\t0\t1\t0\t0"], texts(d, "table.domains tbody tr")
    tiles = dict(zip(texts(d, ".tile .tile-label"), texts(d, ".tile .tile-value")))
    assert (tiles["Unsubscribes"], tiles["Complaints"], tiles["Opens"], tiles["Clicks"]) == ("1", "1", "1", "1"), tiles
    whole(d, w, "tracked")
    whole(d, w, "tracked-390", 390)

    step("the reports list links every campaign's report; the keyboard reaches the new screens")
    go(d, w, API, "report", "Reports")
    links = d.find_elements(By.CSS_SELECTOR, "main tbody a")
    assert [a.text for a in links][:2] == ["Later", "Spring <b>sale</b>"], [a.text for a in links]
    no_markup(d)
    whole(d, w, "list")
    tab_reaches(d, ["Dashboard", "Reports", "Bounces"])   # the navigation grows with the screens


PHASES = {"dashboard-warn": dashboard_warn, "live": live, "finished": finished, "bounces": bounces, "end": end}


def main():
    with session(SHOTS, f"report-failure-{PHASE}") as (d, w):
        login(d, w, API, "admin@example.com", "admin-pass-1")
        PHASES[PHASE](d, w, *ARGS)


if __name__ == "__main__":
    main()
