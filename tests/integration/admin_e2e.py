"""admin_e2e - one marketer's afternoon in the web admin, through the browser
only, in a real headless Chromium: log in; make a list; import a CSV with
bad rows (an invalid address, a repeated one, a spreadsheet formula, a line
with too many fields), read the rejects on the page and download them;
write a campaign in Markdown and watch the preview follow the typing; send
a test message and find it in smtp-sink's files; send the campaign while
Postfix refuses one recipient for good (5xx); watch the report reach
"finished" with that one failed and the reply shown; let Postfix take it
(ACCEPT_CMD) and press Retry; watch the report reach "finished" with none
failed and find the recipient in the sink exactly once; log out, find the
login in place of the admin and the old session cookie refused (401).
Every screen goes to SHOTS/e2e-*.png at 1280 px (the whole page), the key
ones at 390 px too. Waits for states, never for a fixed time.

usage: admin_e2e.py API_URL SHOTS_DIR WORK_DIR SINK_DIR ACCEPT_CMD   (prints "ok N steps")
  WORK_DIR holds people.csv and gets downloads/; SINK_DIR is where smtp-sink writes each message;
  ACCEPT_CMD (run with sh) makes Postfix take the refused recipient from then on.
"""
import email
import email.policy
import glob
import os
import subprocess
import sys
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import (capture, import_counts, login, logout, new_campaign, preview_for, preview_has,
                       preview_text, session, step, texts)

API, SHOTS, WORK, SINK, ACCEPT = sys.argv[1:6]
DOWNLOADS = f"{WORK}/downloads"
LIST = "Spring customers"
REFUSED = "carol@example.org"
REFUSAL = "550 5.7.1 <carol@example.org>: Recipient address rejected: refused by local policy"
PEOPLE = {"ann@example.org": "Ann Lee", "bob@example.org": "Bob Stone", "carol@example.org": "Carol King",
          "erin@example.org": "Erin Moss"}   # the rows people.csv brings in
TESTER = "tester@example.net"


def snap(d, w, name, narrow=False, calm=False):
    """SHOTS/e2e-NAME.png, the whole page at 1280 px; with NARROW, e2e-NAME-390.png at 390 px too;
    with CALM, once the last toast has gone (the README shows these)"""
    if calm:
        w.until(lambda dr: dr.find_element(By.ID, "toast").text == "")
    capture(d, w, SHOTS, f"e2e-{name}", whole=True)
    if narrow:
        capture(d, w, SHOTS, f"e2e-{name}-390", 390, whole=True)


def nav(d, w, label, h1):
    """follow the navigation's link LABEL and wait for the screen's heading H1"""
    d.find_element(By.XPATH, f"//nav[@id='nav']/a[text()='{label}']").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), h1))


def sink_messages(rcpt):
    """the messages smtp-sink got for RCPT, parsed"""
    found = []
    for f in sorted(glob.glob(f"{SINK}/*")):
        raw = open(f, "rb").read()
        if f"\nX-Rcpt-Args: <{rcpt}>".encode() in raw or raw.startswith(f"X-Rcpt-Args: <{rcpt}>".encode()):
            found.append(email.message_from_bytes(raw, policy=email.policy.default))
    return found


def report_now(d):
    """the report as shown at one moment: (status, [(failed recipient, reply)], {tile: value})"""
    return d.execute_script("""
        const r = document.querySelector("section.report");
        if (!r) return null;
        const failed = [...r.querySelectorAll('table.recipients[data-state="failed"] tbody tr')]
            .map((tr) => [tr.querySelector("td").firstChild.textContent, tr.querySelector("td.reply").textContent]);
        const tiles = Object.fromEntries([...r.querySelectorAll(".tile")].map((t) =>
            [t.querySelector(".tile-label").textContent, t.querySelector(".tile-value").textContent]));
        return [r.dataset.status, failed, tiles];""")


def lists_answer(cookie, code):
    """GET /api/v1/lists sent with the Cookie header COOKIE, as another client would send it, answers CODE"""
    req = urllib.request.Request(f"{API}/api/v1/lists", headers={"Cookie": cookie, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            got = res.status
    except urllib.error.HTTPError as e:
        got = e.code
    assert got == code, f"GET /api/v1/lists with the session cookie answered {got}, expected {code}"


def log_in(d, w):
    step("the login page; log in with the email and password")
    d.get(API + "/admin/")
    w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
    snap(d, w, "login", narrow=True)
    login(d, w, API, "admin@example.com", "admin-pass-1")
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Dashboard"))
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, "#chart-sent"))
    snap(d, w, "dashboard-start")


def make_list(d, w):
    step(f'the Lists screen: the list "{LIST}" made')
    nav(d, w, "Lists", "Lists")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New list']")
    form.find_element(By.NAME, "name").send_keys(LIST)
    form.find_element(By.NAME, "description").send_keys("Customers who asked for the spring offers")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    w.until(lambda dr: texts(dr, "main tbody td:first-child") == [LIST])
    snap(d, w, "lists")


def import_people(d, w):
    step("the Import screen: the file read as the import reads it, its bad rows marked")
    nav(d, w, "Import", "Import subscribers")
    d.find_element(By.ID, "imp-file").send_keys(f"{WORK}/people.csv")
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.preview-rows")))
    assert d.find_element(By.CSS_SELECTOR, "[data-fact=delimiter]").text == '"," (detected)'
    rows = texts(d, "table.preview-rows tbody tr.rejected")
    assert len(rows) == 3, rows
    assert 'Rejected: invalid address "not-an-email": no @' in rows[0], rows
    assert 'Rejected: invalid address "=2+5": no @' in rows[1], rows
    assert "Rejected: 5 fields, the header has 3" in rows[2], rows
    snap(d, w, "import-preview")

    step("the import into the list: its summary with the rejected rows on the page")
    opts = d.find_element(By.CSS_SELECTOR, "form[aria-label='Import options']")
    box = opts.find_element(By.CSS_SELECTOR, f"input[name=list][value='{LIST}']")
    assert box.is_selected(), "the only list is not checked"
    opts.find_element(By.CSS_SELECTOR, "button[value=import]").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".summary h2"), "Imported"))
    counts = import_counts(d)
    assert counts == {"rows_read": "8", "new_subscribers": "4", "existing_updated": "0", "already_subscribed": "0",
                      "skipped": "0", "not_found": "0", "duplicates_in_file": "1", "rejected": "3"}, counts
    rejects = texts(d, ".summary table.rejects tbody tr")
    assert rejects == ['5\tinvalid address "not-an-email": no @\tnot-an-email,Nobody,Nice',
                       "7\tinvalid address \"=2+5\": no @\t'=2+5,Formula,Oslo",
                       "8\t5 fields, the header has 3\tdan@example.org,Dan Bell,Nice,extra,more"], rejects
    snap(d, w, "import-done", narrow=True)

    step("the rejected rows downloaded as a file, the formula defused")
    link = d.find_element(By.CSS_SELECTOR, ".summary a.download")
    name = link.get_attribute("download")
    assert name.startswith("import-") and name.endswith("-rejects.csv"), name
    link.click()
    path = f"{DOWNLOADS}/{name}"
    w.until(lambda _: os.path.exists(path) and not glob.glob(f"{DOWNLOADS}/*.crdownload"))
    got = open(path, encoding="utf-8").read()
    assert got == ('line,reason,row\n'
                   '5,"invalid address ""not-an-email"": no @","not-an-email,Nobody,Nice"\n'
                   '7,"invalid address ""=2+5"": no @","\'=2+5,Formula,Oslo"\n'
                   '8,"5 fields, the header has 3","dan@example.org,Dan Bell,Nice,extra,more"\n'), got


def write_campaign(d, w):
    step("a new campaign written in Markdown: the preview follows the typing")
    nav(d, w, "Campaigns", "Campaigns")
    form = new_campaign(d, w, "Spring sale", 'Spring sale for {{ name | default "friends" }}', "The Shop", "news")
    form.find_element(By.XPATH, f".//label[contains(., '{LIST}')]/input[@name='lists']").click()
    preview_for(d, "ann@example.org")
    body = form.find_element(By.CSS_SELECTOR, "textarea[name=body]")
    body.clear()
    body.send_keys("# Spring sale\n\nHello *{{ name }}*,\n")
    w.until(preview_has("<p>Hello <em>Ann Lee</em>,</p>"))
    assert "Monday" not in preview_text(d)
    assert d.find_element(By.CSS_SELECTOR, ".preview-subject").text == "Spring sale for Ann Lee"
    snap(d, w, "editor-typing")
    body.send_keys("\nOur spring sale starts on **Monday**.\n\n[Unsubscribe]({{ unsubscribe_url }})\n")
    w.until(preview_has("<p>Our spring sale starts on <strong>Monday</strong>.</p>"))
    assert "Our spring sale starts on Monday." in preview_text(d)
    snap(d, w, "editor-preview", narrow=True)

    step("saved as a draft")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    w.until(lambda dr: dr.current_url.endswith("/edit"))
    w.until(lambda dr: dr.find_element(By.ID, "campaign-status").text == "draft")
    assert d.find_element(By.CSS_SELECTOR, "main h1").text == "Campaign: Spring sale"


def test_send(d, w):
    step(f"a test message to {TESTER}, found in smtp-sink's files")
    test = d.find_element(By.CSS_SELECTOR, "form[aria-label='Test message']")
    test.find_element(By.NAME, "to").send_keys(TESTER, Keys.ENTER)
    res = d.find_element(By.CSS_SELECTOR, ".lifecycle .result")
    w.until(lambda _: res.text.startswith(f"Test message to {TESTER} taken by relay local (250"))
    assert not res.text.endswith(", unsigned."), res.text
    snap(d, w, "editor-test")
    w.until(lambda _: sink_messages(TESTER))
    [m] = sink_messages(TESTER)
    assert m["Subject"] == "Spring sale for friends", m["Subject"]
    assert m["From"] == "The Shop <news@example.com>", m["From"]
    text = m.get_body(("plain",)).get_content()
    assert "Our spring sale starts on Monday." in text, text
    assert "<p>Our spring sale starts on <strong>Monday</strong>.</p>" in m.get_body(("html",)).get_content()


def send_and_watch(d, w):
    step("send now; the report from the Reports screen reaches finished with the refused recipient failed")
    d.find_element(By.XPATH, "//button[text()='Send now']").click()
    w.until(lambda dr: dr.find_element(By.ID, "campaign-status").text in ("running", "finished"))
    campaign = d.current_url.split("#/campaigns/")[1].split("/")[0]
    link = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".lifecycle a.report-link")))
    assert link.get_attribute("href").endswith(f"#/report/{campaign}"), link.get_attribute("href")
    snap(d, w, "editor-sent")
    nav(d, w, "Campaigns", "Campaigns")
    w.until(lambda dr: texts(dr, "main tbody td[data-label=Name]") == ["Spring sale"])
    snap(d, w, "campaigns")
    nav(d, w, "Reports", "Reports")
    snap(d, w, "reports")
    d.find_element(By.LINK_TEXT, "Spring sale").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Report: Spring sale"))
    w.until(lambda dr: (lambda r: r and r[0] == "finished" and len(r[1]) == 1)(report_now(dr)))
    status, failed, tiles = report_now(d)
    assert failed[0][0] == REFUSED and failed[0][1] == REFUSAL, failed
    assert (tiles["Delivered"], tiles["Failed"], tiles["Queued"], tiles["Bounced"]) == ("3", "1", "0", "1"), tiles
    w.until(lambda dr: texts(dr, "table.domains tbody tr") == ["example.org\t4\t3\t0\t1\t0\t0"])
    opener = w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.retry-open")))
    assert opener.text == "Retry failed deliveries (1 failed)…", opener.text
    opener.click()
    button = w.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.retry-button")))
    assert button.text == "Retry 1 failed delivery", button.text
    snap(d, w, "report-failed", narrow=True, calm=True)
    return button


def retry(d, w, button):
    step("Postfix takes the refused address now; Retry: the report reaches finished with none failed")
    subprocess.run(["sh", ACCEPT], check=True, stdout=subprocess.DEVNULL)
    button.click()
    w.until(EC.text_to_be_present_in_element((By.ID, "toast"), "1 failed delivery queued again; the campaign is running."))
    w.until(lambda dr: (lambda r: r and r[0] == "finished" and r[1] == []
                        and (r[2]["Delivered"], r[2]["Failed"], r[2]["Queued"]) == ("4", "0", "0"))(report_now(dr)))
    w.until(lambda dr: texts(dr, "table.domains tbody tr") == ["example.org\t4\t4\t0\t0\t0\t0"])
    snap(d, w, "report-retried", narrow=True)

    step("the sink got one message for each recipient, the retried one once")
    w.until(lambda _: sink_messages(REFUSED))
    for who, name in PEOPLE.items():
        got = sink_messages(who)
        assert len(got) == 1, f"{who}: {len(got)} messages in the sink"
        assert got[0]["Subject"] == f"Spring sale for {name}", (who, got[0]["Subject"])


def dashboard(d, w):
    step("the dashboard: the day's messages in its charts")
    nav(d, w, "Dashboard", "Dashboard")
    w.until(lambda dr: dr.find_element(By.ID, "chart-sent").get_attribute("data-total") == "4")
    snap(d, w, "dashboard", narrow=True, calm=True)


def log_out(d, w):
    step("log out: the login in place of the admin; the old session cookie gets 401 from the API")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    lists_answer(cookie, 200)
    logout(d, w)
    assert "You have logged out." in d.find_element(By.CSS_SELECTOR, ".login .form-error").text
    d.get(API + "/admin/")
    w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
    assert d.find_element(By.ID, "nav").get_attribute("hidden") is not None, "the navigation shows after logout"
    assert not d.find_elements(By.CSS_SELECTOR, "main table"), "a screen shows after logout"
    snap(d, w, "logged-out")
    lists_answer(cookie, 401)


def main():
    os.makedirs(DOWNLOADS, exist_ok=True)
    with session(SHOTS, "e2e-failure", downloads=DOWNLOADS) as (d, w):
        log_in(d, w)
        make_list(d, w)
        import_people(d, w)
        write_campaign(d, w)
        test_send(d, w)
        button = send_and_watch(d, w)
        retry(d, w, button)
        dashboard(d, w)
        log_out(d, w)


if __name__ == "__main__":
    main()
