"""admin_providers - the web admin's mailbox providers in a real headless
Chromium (test_providers.sh runs it once its campaign has gone through
Postfix and its log was read):

  the report of campaign C: its table by provider (Google 5 delivered with the
  Workspace domain, Microsoft's deferral, Yahoo's complaint, other)
  the Providers screen: the providers with their domains and hosts, the last
  30 days by provider, which provider an address belongs to and why (the
  learned Workspace domain); an admin adds a provider (a pattern another
  provider has is named beside its field), changes its domains and removes it;
  sets Google's pace (a bad limit named beside its field), sees it halved with
  its reason once Google defers for rate three times, sets a warm-up (a falling
  curve refused beside its field) and removes it

Screenshots SHOTS/providers-*.png at 1280 px and 390 px (no sideways scrolling).

usage: admin_providers.py API_URL SHOTS_DIR CAMPAIGN DEFERRALS   (prints "ok N steps")
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import capture, go, login, session, sql, step, texts, until_shows

API, SHOTS, C, DEFERRALS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def table(d, css):
    """the rows of the table CSS: each row's cells' text"""
    return d.execute_script("""return [...document.querySelectorAll(arguments[0] + " tbody tr")]
        .map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))""", css)


with session(SHOTS, "providers-failure") as (d, w):
    login(d, w, API, "admin@example.com", "admin-pass-1")

    step("the campaign's report: by mailbox provider")
    go(d, w, API, f"report/{C}", "Report")
    w.until(lambda dr: len(table(dr, "table.report-providers")) == 4)
    got = [r[:10] for r in table(d, "table.report-providers")]
    assert got == [
        ["Google", "5", "0", "0", "1", "1", "0", "0", "0", got[0][9]],
        ["Microsoft", "1", "1", DEFERRALS, "0", "0", "0", "0", "0", got[1][9]],
        ["Yahoo/AOL", "1", "0", "0", "0", "0", "0", "0", "1", got[2][9]],
        ["Other", "1", "0", "0", "0", "0", "0", "0", "0", got[3][9]],
    ], got
    assert all(r[9].endswith(" s") for r in got), got
    capture(d, w, SHOTS, "providers-report", scroll_to="#h-providers-section")
    capture(d, w, SHOTS, "providers-report-390", 390, scroll_to="#h-providers-section")

    step("the Providers screen: providers, their patterns, the last 30 days")
    d.find_element(By.CSS_SELECTOR, "#nav a[href='#/providers']").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Mailbox providers"))
    w.until(lambda dr: len(table(dr, "table.providers-table")) >= 14)
    google = d.find_element(By.CSS_SELECTOR, "table.providers-table tr[data-provider=google]").text
    assert "gmail.com, googlemail.com" in google and "*.google.com" in google, google
    days = {r[0]: r[1:4] for r in table(d, "table.provider-days")}
    assert days["Google"] == ["5", "0", "0"] and days["Microsoft"] == ["1", "1", DEFERRALS], days
    capture(d, w, SHOTS, "providers-screen", whole=True)
    capture(d, w, SHOTS, "providers-screen-390", 390, whole=True)

    step("which provider: the Workspace domain was learned from Google's host")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='Which provider']")
    form.find_element(By.NAME, "target").send_keys("w9@workspace.test")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until_shows(w, lambda dr: texts(dr, ".match-why"),
                ["Google — google: learned, mail to workspace.test was taken by aspmx.l.google.com, a host of google"])

    step("an admin adds a provider: a pattern another provider has is named beside its field")
    add = d.find_element(By.CSS_SELECTOR, "form[aria-label='New provider']")
    add.find_element(By.NAME, "name").send_keys("zeta")
    add.find_element(By.NAME, "label").send_keys("Zeta Mail")
    add.find_element(By.NAME, "domains").send_keys("zeta.test\ngmail.com")
    add.find_element(By.NAME, "mx").send_keys("*.mx.zeta.test")
    add.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until_shows(w, lambda dr: texts(dr, "form[aria-label='New provider'] .field.invalid .error"),
                ['the domain pattern "gmail.com" is provider google\'s'])
    capture(d, w, SHOTS, "providers-add-error", scroll_to="form[aria-label='New provider']")
    box = add.find_element(By.NAME, "domains")
    box.clear()
    box.send_keys("zeta.test\nzeta.*")
    add.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, "table.providers-table tr[data-provider=zeta]"))
    assert sql("SELECT string_agg(pattern, ' ' ORDER BY pattern) FROM provider_domains d JOIN providers p"
               " ON p.id = d.provider_id WHERE p.name = 'zeta'") == "zeta.* zeta.test"

    step("an admin changes its domains and removes it")
    d.find_element(By.CSS_SELECTOR, "tr[data-provider=zeta] button.secondary").click()
    edit = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='Change zeta']")))
    box = edit.find_element(By.NAME, "domains")
    box.clear()
    box.send_keys("zeta.example")
    edit.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until_shows(w, lambda dr: dr.execute_script(
        "return document.querySelector('tr[data-provider=zeta] .patterns')?.textContent"), "zeta.example")
    d.find_element(By.CSS_SELECTOR, "tr[data-provider=zeta] button.danger").click()
    confirm = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "tr.confirm-row")))
    capture(d, w, SHOTS, "providers-remove-390", 390, scroll_to="tr.confirm-row")
    d.find_element(By.CSS_SELECTOR, "tr.confirm-row button:not(.secondary)").click()
    w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "table.providers-table tr[data-provider=zeta]"))
    assert sql("SELECT count(*) FROM providers WHERE name = 'zeta'") == "0"

    step("an admin sets Google's pace: shown in the table")
    go(d, w, API, "providers", "Mailbox providers")
    row = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.providers-table tr[data-provider=google]")))
    row.find_element(By.XPATH, ".//button[text()='Pace']").click()
    pace = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='Pace of google']")))
    pace.find_element(By.NAME, "per_minute").send_keys("600")
    pace.find_element(By.NAME, "per_hour").send_keys("0")
    pace.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until_shows(w, lambda dr: texts(dr, "form[aria-label='Pace of google'] .field.invalid .error"),
                ["field \"per_hour\" must be from 1 to 10000000"])
    box = pace.find_element(By.NAME, "per_hour")
    box.clear()
    pace.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until_shows(w, lambda dr: texts(dr, "tr[data-provider=google] td.pace"), ["600/min"])
    assert sql("SELECT coalesce(per_minute, 0) || ' ' || coalesce(per_hour, 0) FROM providers WHERE name = 'google'") == "600 0"

    step("Google defers for rate three times: halved, with the reason, on the screen")
    for _ in range(3):
        sql("SELECT provider_rate_deferral(id, '4.7.28 host gmail-smtp-in.l.google.com[192.0.2.27] said: 421-4.7.28"
            " Gmail has detected an unusual rate of unsolicited mail, rate limited') FROM providers WHERE name = 'google'")
    assert sql("SELECT count(*) FROM provider_pace_events e JOIN providers p ON p.id = e.provider_id"
               " WHERE p.name = 'google' AND e.kind = 'halved'") == "1"
    d.refresh()   # the screen read again (the same address would not render it anew)
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Mailbox providers"))
    until_shows(w, lambda dr: texts(dr, "tr[data-provider=google] td.pace.slowed"), ["600/min; slowed to 300/min"])
    ev = table(d, "table.pace-events")
    assert len(ev) == 1 and ev[0][1:4] == ["Google", "halved 600 → 300/min", "3"] and "421-4.7.28" in ev[0][4], ev
    capture(d, w, SHOTS, "providers-pace", scroll_to="#h-pace-events")
    capture(d, w, SHOTS, "providers-pace-390", 390, scroll_to="#h-pace-events")

    step("an admin sets a warm-up (a falling curve is refused beside its field), then removes it")
    wf = d.find_element(By.CSS_SELECTOR, "form[aria-label='Set a warm-up']")
    wf.find_element(By.NAME, "target").send_keys("news.example.com")
    wf.find_element(By.NAME, "days").send_keys("100,50")
    wf.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    until_shows(w, lambda dr: texts(dr, "form[aria-label='Set a warm-up'] .field.invalid .error"),
                ["invalid warm-up days \"100,50\": a day's cap is never smaller than the day before's"])
    box = wf.find_element(By.NAME, "days")
    box.clear()
    box.send_keys("50,100,500")
    wf.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    w.until(lambda dr: table(dr, "table.warmups-table"))
    got = table(d, "table.warmups-table")
    assert [r[:6] for r in got] == [["news.example.com", "1 of 3", "50", "0", "100", "none"]], got
    capture(d, w, SHOTS, "providers-warmup", scroll_to="#h-warmups")
    capture(d, w, SHOTS, "providers-warmup-390", 390, scroll_to="#h-warmups")
    d.find_element(By.CSS_SELECTOR, "tr[data-target='news.example.com'] button.danger").click()
    w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "table.warmups-table"))
    assert sql("SELECT count(*) FROM warmups") == "0"
