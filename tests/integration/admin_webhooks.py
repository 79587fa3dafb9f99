"""admin_webhooks - drive the web admin's Webhooks screen in a real headless
Chromium, as a person would: a webhook added with some events ticked, its
secret made by the server shown once (and in no screen after); a host that
does not resolve refused beside the URL field; the endpoint tested (HTTP 200 shown);
a subscriber added so an event goes out; the delivery log with its status
and latency; an event replayed from the log; the endpoint disabled by hand
and shown so, enabled again; an endpoint the receiver refuses, disabled by
the server after failing, shown with its reason; one removed.
Every screen at 1280 px and 390 px (no sideways scrolling).

usage: admin_webhooks.py API_URL SHOTS_DIR RECEIVER_PORT   (prints "ok N steps" at the end)
env: WORK (the test's directory, its database in var/pg/run)
"""
import os
import subprocess
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import capture, go, login, session, sql, step, texts

API, SHOTS, RPORT = sys.argv[1], sys.argv[2], sys.argv[3]
BIN = os.environ["BIN"]


def row(d, wid):
    return d.find_element(By.CSS_SELECTOR, f"tr[data-webhook='{wid}']")


def press(el, label):
    el.find_element(By.XPATH, f".//button[text()='{label}'] | .//a[text()='{label}']").click()


with session(SHOTS, "webhooks-failure") as (d, w):
    login(d, w, API, "admin@example.com", "admin-pass-1")

    step("no webhook yet: the screen says so")
    go(d, w, API, "webhooks", "Webhooks")
    assert d.find_element(By.CSS_SELECTOR, "main p.empty").text == "No webhook yet."

    step("a host that does not resolve is refused beside the URL field, in the server's words")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New webhook']")
    form.find_element(By.NAME, "url").send_keys("https://no-such-host.invalid/hook")
    form.find_element(By.CSS_SELECTOR, "input[name='ev:subscriber.created']").click()
    form.find_element(By.XPATH, ".//button[text()='Add webhook']").click()
    err = w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, ".field[data-field=url] .error").text or None)
    assert err.startswith("url's host no-such-host.invalid cannot be resolved"), err
    assert sql("SELECT count(*) FROM webhook_endpoints") == "0"

    step("no event ticked: refused beside the events")
    url = form.find_element(By.NAME, "url")
    url.clear()
    url.send_keys(f"http://127.0.0.1:{RPORT}/hook")
    form.find_element(By.CSS_SELECTOR, "input[name='ev:subscriber.created']").click()
    form.find_element(By.XPATH, ".//button[text()='Add webhook']").click()
    err = w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, ".field[data-field=events] .error").text or None)
    assert err.startswith("events must name at least one event"), err

    step("added with two events: the secret made by the server is shown once, to copy")
    form.find_element(By.CSS_SELECTOR, "input[name='ev:subscriber.created']").click()
    form.find_element(By.CSS_SELECTOR, "input[name='ev:subscriber.updated']").click()
    form.find_element(By.NAME, "description").send_keys("the shop's CRM")
    form.find_element(By.XPATH, ".//button[text()='Add webhook']").click()
    secret_box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".hook-secret input.record")))
    secret = secret_box.get_attribute("value")
    assert secret.startswith("whsec_") and len(secret) == 50, secret
    capture(d, w, SHOTS, "webhooks-secret", scroll_to=".hook-secret")
    capture(d, w, SHOTS, "webhooks-secret-390", width=390, scroll_to=".hook-secret")
    # the receiver verifies with this secret from now on
    with open("secret", "w") as f:
        f.write(secret + "\n")
    d.find_element(By.XPATH, "//button[text()='Done']").click()
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-webhook]")))
    wid = row(d, sql("SELECT max(id) FROM webhook_endpoints")).get_attribute("data-webhook")
    assert secret not in d.page_source, "the secret is on the screen again"
    r = row(d, wid)
    assert r.find_element(By.CSS_SELECTOR, "code.hook-url").text == f"http://127.0.0.1:{RPORT}/hook"
    assert "subscriber.created, subscriber.updated" in r.text
    assert r.find_element(By.CSS_SELECTOR, ".badge").text == "enabled"

    step("tested: the answer is shown under the endpoint")
    press(r, "Test")
    out = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".relay-test")))
    w.until(lambda dr: "the endpoint works" in dr.find_element(By.CSS_SELECTOR, ".relay-test").text)
    assert out.text.startswith("HTTP 200 in "), out.text

    step("a subscriber added: its event delivered, the log shows status and latency")
    subprocess.run([BIN, "subscriber", "add", "crm@example.org"], check=True, capture_output=True)
    ev = sql(f"SELECT max(id) FROM webhook_events WHERE endpoint_id = {wid}")
    w.until(lambda dr: sql(f"SELECT state FROM webhook_events WHERE id = {ev}") == "done")
    go(d, w, API, "webhooks", "Webhooks")
    press(row(d, wid), "Log")
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), f"Webhook {wid}"))
    lines = texts(d, "table.hook-log tbody tr")
    assert any("subscriber.created" in l and "200" in l and " ms" in l for l in lines), lines
    assert any("webhook.test" in l for l in lines), lines
    capture(d, w, SHOTS, "webhooks-log")
    capture(d, w, SHOTS, "webhooks-log-390", width=390)

    step("an event replayed from the log: sent again")
    before = sql(f"SELECT count(*) FROM webhook_attempts WHERE event_id = {ev}")
    tr = [t for t in d.find_elements(By.CSS_SELECTOR, "table.hook-log tbody tr") if "subscriber.created" in t.text][0]
    press(tr, "Replay")
    w.until(lambda dr: int(sql(f"SELECT count(*) FROM webhook_attempts WHERE event_id = {ev}")) > int(before))

    step("disabled by hand, shown so; enabled again")
    go(d, w, API, "webhooks", "Webhooks")
    press(row(d, wid), "Disable")
    w.until(lambda dr: row(dr, wid).find_element(By.CSS_SELECTOR, ".badge").text == "disabled")
    assert "disabled by hand" in row(d, wid).text
    press(row(d, wid), "Enable")
    w.until(lambda dr: row(dr, wid).find_element(By.CSS_SELECTOR, ".badge").text == "enabled")

    step("an endpoint the receiver refuses: disabled by the server after failing, with the reason")
    subprocess.run([BIN, "webhook", "add", f"http://127.0.0.1:{RPORT}/refuses", "--events", "subscriber.created",
                    "--description", "a receiver that refuses everything"], check=True, capture_output=True)
    bad = sql("SELECT max(id) FROM webhook_endpoints")
    for i in range(4):
        subprocess.run([BIN, "subscriber", "add", f"refused{i}@example.org"], check=True, capture_output=True)
    w.until(lambda dr: sql(f"SELECT enabled FROM webhook_endpoints WHERE id = {bad}") == "f")
    d.refresh()
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-webhook='{bad}'] .hook-reason")))
    reason = row(d, bad).find_element(By.CSS_SELECTOR, ".hook-reason").text
    assert reason.startswith("disabled after ") and "failed attempts in a row since" in reason and "HTTP 401" in reason, reason
    capture(d, w, SHOTS, "webhooks-list")
    capture(d, w, SHOTS, "webhooks-list-390", width=390, whole=True)

    step("removed, after a confirmation")
    press(row(d, bad), "Remove")
    d.find_element(By.CSS_SELECTOR, ".confirm-row button:not(.secondary)").click()
    w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, f"tr[data-webhook='{bad}']"))
    assert sql(f"SELECT count(*) FROM webhook_endpoints WHERE id = {bad}") == "0"
