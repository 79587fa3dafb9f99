"""admin_ab - the campaign editor's A/B test box and the report's variant
table in a real headless Chromium:

  editor            a new campaign with an A/B test: the box opens, a third subject is added,
                    a sample of 100% is refused beside its field, 25% is saved (the stored
                    test checked in the database); the box at 1280 and 390 px
  report C WINNER   campaign C's report: its variants with sent, unique opens and clicks,
                    WINNER marked; no pick buttons once decided
  pick C N          campaign C, its test running with a manual pick: the report's button
                    sends variant N to the rest; the table marks it the winner

Screenshots SHOTS/ab-*.png. Waits for states, never for a fixed time.

usage: admin_ab.py API_URL SHOTS_DIR PHASE ARGS...   (prints "ok N steps")
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import capture, go, login, new_campaign, session, sql, step, texts, until_shows

API, SHOTS, PHASE, ARGS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]


def editor(d, w):
    step("a new campaign: the A/B box is closed until asked for")
    go(d, w, API, "campaigns", "Campaigns")
    form = new_campaign(d, w, "Browser test", "", "Team", "news")
    form.find_element(By.XPATH, ".//label[contains(., 'alpha')]/input").click()
    form.find_element(By.XPATH, ".//label[contains(., 'Track opens')]/input").click()
    parts = form.find_element(By.CSS_SELECTOR, ".ab-parts")
    assert not parts.is_displayed(), "the A/B box is open before it is asked for"
    form.find_element(By.NAME, "ab_on").click()
    w.until(lambda _: parts.is_displayed())

    step("two subjects, a third added; a sample of 100% refused beside its field")
    subjects = form.find_elements(By.NAME, "ab_subject")
    assert len(subjects) == 2, len(subjects)
    subjects[0].send_keys("Spring is here")
    subjects[1].send_keys("Our spring offer")
    form.find_element(By.XPATH, ".//button[text()='Add a variant']").click()
    subjects = form.find_elements(By.NAME, "ab_subject")
    assert len(subjects) == 3, len(subjects)
    subjects[2].send_keys("Last days of spring")
    sample = form.find_element(By.NAME, "ab.sample")
    sample.clear()
    sample.send_keys("100%")
    form.find_element(By.XPATH, ".//button[text()='Save draft']").click()
    err = form.find_element(By.CSS_SELECTOR, ".field[data-field='ab.sample'] .error")
    w.until(lambda _: "between 1% and 99%" in err.text)

    step("25% over 2h, automatic: saved; the stored test is what was typed")
    sample.clear()
    sample.send_keys("25%")
    win = form.find_element(By.NAME, "ab.window")
    win.clear()
    win.send_keys("2h")
    form.find_element(By.XPATH, ".//button[text()='Save draft']").click()
    w.until(EC.url_contains("/edit"))
    cid = d.current_url.split("#/campaigns/")[1].split("/")[0]
    got = sql(f"SELECT a.sample_pct || '/' || a.window_s || '/' || a.metric || '/' || a.pick || '/' ||"
              f" (SELECT string_agg(subject, ',' ORDER BY n) FROM campaign_variants v WHERE v.campaign_id = a.campaign_id)"
              f" || '/' || c.subject FROM campaign_ab a JOIN campaigns c ON c.id = a.campaign_id WHERE a.campaign_id = {cid}")
    assert got == "25/7200/opens/auto/Spring is here,Our spring offer,Last days of spring/Spring is here", got

    step("the saved campaign opens with its test in the box")
    w.until(lambda dr: [e.get_attribute("value") for e in dr.find_elements(By.NAME, "ab_subject")] ==
            ["Spring is here", "Our spring offer", "Last days of spring"])
    assert d.find_element(By.NAME, "ab.window").get_attribute("value") == "2h"
    capture(d, w, SHOTS, "ab-editor", scroll_to=".ab-box")
    capture(d, w, SHOTS, "ab-editor-390", 390, scroll_to=".ab-box")


def variant_rows(dr):
    return texts(dr, "table.ab-variants tbody tr")


def report(d, w, cid, winner):
    step(f"campaign {cid}'s report: each variant's results, variant {winner} marked the winner")
    go(d, w, API, f"report/{cid}", "Report")
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, "table.ab-variants tbody tr"))
    marked = d.find_elements(By.CSS_SELECTOR, "table.ab-variants tr.winner")
    assert [m.get_attribute("data-variant") for m in marked] == [winner], [m.get_attribute("data-variant") for m in marked]
    assert "winner" in marked[0].text
    assert not d.find_elements(By.XPATH, "//table[contains(@class, 'ab-variants')]//button"), "pick buttons after the pick"
    assert "won" in d.find_element(By.CSS_SELECTOR, ".ab-state").text
    rows = variant_rows(d)
    want = sql(f"SELECT string_agg(v.n || '|' || (SELECT count(*) FROM deliveries d WHERE d.campaign_id = v.campaign_id"
               f" AND d.variant = v.n AND d.state = 'sent'), ',' ORDER BY v.n) FROM campaign_variants v WHERE v.campaign_id = {cid}")
    shown = ",".join(r.split("\t")[0].replace("winner", "").strip() + "|" + r.split("\t")[2] for r in rows)
    assert shown == want, (shown, want)
    capture(d, w, SHOTS, "ab-report", scroll_to="#h-ab-section")
    capture(d, w, SHOTS, "ab-report-390", 390, scroll_to="#h-ab-section")


def pick(d, w, cid, n):
    step(f"campaign {cid}: the report offers a button per variant; variant {n}'s sends it to the rest")
    go(d, w, API, f"report/{cid}", "Report")
    button = w.until(EC.element_to_be_clickable((By.XPATH, f"//button[text()='Send {n} to the rest']")))
    capture(d, w, SHOTS, "ab-pick", scroll_to="#h-ab-section")
    d.find_element(By.XPATH, f"//button[text()='Send {n} to the rest']").click()
    until_shows(w, lambda dr: [e.get_attribute("data-variant") for e in dr.find_elements(By.CSS_SELECTOR, "table.ab-variants tr.winner")], [n])
    assert sql(f"SELECT winner || '/' || decided_by FROM campaign_ab WHERE campaign_id = {cid}") == f"{n}/manual"
    del button


PHASES = {"editor": editor, "report": report, "pick": pick}


def main():
    with session(SHOTS, f"ab-failure-{PHASE}") as (d, w):
        login(d, w, API, "admin@example.com", "admin-pass-1")
        PHASES[PHASE](d, w, *ARGS)


if __name__ == "__main__":
    main()
