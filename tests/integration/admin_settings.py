"""admin_settings - drive the web admin's Import, Images, Settings and Account
screens in a real headless Chromium, as a person would:
  import a CSV with bad rows: the preview (delimiter, encoding, columns, the
  first rows with markup shown as text), a mapping changed, a dry run (exact
  counts and the first rejects, nothing written), the import with its
  progress bar (held at its merge by a lock while it is looked at), its
  summary, the rejects downloaded;
  images: one uploaded and shown, the same one again kept once, an SVG and a
  PNG named .jpg refused with the server's words, one removed;
  settings: a relay added and tested through Postfix (each step shown), one
  with a wrong password tested and removed; a DKIM key made with its record
  to copy, removed; a user added, disabled, enabled, given a password,
  removed; the account's token made (shown once) and revoked;
  the user role: no Settings in its navigation, and #/settings typed says 403;
  its own password changed.
Every screen at 1280 px and 390 px (no sideways scrolling). Waits for states,
never for a fixed time.

usage: admin_settings.py API_URL SHOTS_DIR WORK_DIR   (prints "ok N steps" at the end)
env: WORK (the test's directory, its database in var/pg/run), MTA_PORT (Postfix), RELAY_PW
"""
import os
import subprocess
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from admin_lib import (PSQL, capture, go, import_counts, login, logout, session, shot, sql, step, texts,
                       until_shows)

API, SHOTS, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
MTA_PORT, RELAY_PW = os.environ["MTA_PORT"], os.environ["RELAY_PW"]


def no_markup_elements(d):
    """the subscriber's markup was shown as text: no element was made of it"""
    assert not d.find_elements(By.CSS_SELECTOR, "main script, main img[src='x']"), "markup became an element"


def form_error(d, css):
    """the first non-empty error line in the form CSS (beside a field, or the form's)"""
    for e in d.find_elements(By.CSS_SELECTOR, f"{css} .field .error, {css} .form-error"):
        if e.text:
            return e.text
    return ""


def import_screen(d, w):
    step("import: the file previewed (delimiter, encoding, columns, the first rows; markup shown as text)")
    before = sql("SELECT count(*) FROM subscribers")
    go(d, w, API, "import", "Import subscribers")
    d.find_element(By.ID, "imp-file").send_keys(f"{WORK}/browser.csv")
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.mapping")))
    assert d.find_element(By.CSS_SELECTOR, "[data-fact=format]").text == "CSV"
    assert d.find_element(By.CSS_SELECTOR, "[data-fact=delimiter]").text == '";" (detected)'
    assert d.find_element(By.CSS_SELECTOR, "[data-fact=encoding]").text == "read as utf-8; the first bytes look like utf-8"
    cols = [(r.get_attribute("data-column"), Select(r.find_element(By.TAG_NAME, "select")).first_selected_option.get_attribute("value"))
            for r in d.find_elements(By.CSS_SELECTOR, "table.mapping tbody tr")]
    assert cols == [("E-Mail", "email"), ("Name", "name"), ("City", "attribute"), ("Note", "attribute")], cols
    rows = texts(d, "table.preview-rows tbody tr")
    assert len(rows) == 10, rows
    assert "<script>alert(1)</script>" in rows[1] and "Note: <img src=x onerror=alert(2)>" in rows[1], rows[1]
    assert rows[2].startswith("4") and 'Rejected: invalid address "not-an-email": no @' in rows[2], rows[2]
    no_markup_elements(d)
    shot(d, SHOTS, "import-preview")

    step("import: the mapping changed (Note skipped, City as the attribute town): the preview follows")
    Select(d.find_element(By.CSS_SELECTOR, "tr[data-column=Note] select")).select_by_value("skip")
    w.until(lambda dr: "Note:" not in " ".join(texts(dr, "table.preview-rows tbody tr")))
    key = d.find_element(By.CSS_SELECTOR, "tr[data-column=City] input")
    key.send_keys(Keys.CONTROL, "a")
    key.send_keys("town", Keys.TAB)
    w.until(lambda dr: "town: Lyon" in texts(dr, "table.preview-rows tbody tr")[0])
    assert Select(d.find_element(By.CSS_SELECTOR, "tr[data-column=Note] select")).first_selected_option.get_attribute("value") == "skip"
    assert d.find_element(By.CSS_SELECTOR, "tr[data-column=Note] td:last-child").text == "—"
    d.execute_script("document.querySelector('table.mapping').scrollIntoView({block: 'start'})")
    shot(d, SHOTS, "import-mapping")

    step("import: two lists chosen, a dry run: exact counts and the first rejects; nothing written")
    opts = d.find_element(By.CSS_SELECTOR, "form[aria-label='Import options']")
    for name in ("news", "vip"):
        opts.find_element(By.CSS_SELECTOR, f"input[name=list][value={name}]").click()
    opts.find_element(By.CSS_SELECTOR, "button[value=dry]").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".summary h2"), "Dry run: nothing was written"))
    counts = import_counts(d)
    # ann, bob, carol and dan came in with the API's import: already on both lists
    assert counts == {"rows_read": "3,008", "new_subscribers": "3,000", "existing_updated": "0", "already_subscribed": "4",
                      "skipped": "0", "not_found": "0", "duplicates_in_file": "1", "rejected": "3"}, counts
    rej = texts(d, ".summary table.rejects tbody tr")
    assert [r.split("\t")[0] for r in rej] == ["4", "5", "6"], rej
    assert "'=1+2;Formula;Rome;" in rej[2], rej
    assert sql("SELECT count(*) FROM subscribers") == before, "the dry run wrote subscribers"
    shot(d, SHOTS, "import-dryrun")

    step("import: the real one, a job: its progress bar while held at the merge, then its summary")
    locker = subprocess.Popen(PSQL + ["-c", "BEGIN; LOCK TABLE subscribers IN EXCLUSIVE MODE; "
                                      "SELECT pg_sleep(600) /* held by the browser test */;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        w.until(lambda _: sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                              "WHERE c.relname = 'subscribers' AND l.mode = 'ExclusiveLock' AND l.granted") == "1")
        d.find_element(By.CSS_SELECTOR, "form[aria-label='Import options'] button[value=import]").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".progress-line"), "merging"))
        bar = d.find_element(By.CSS_SELECTOR, ".running progress")
        assert bar.get_attribute("value") == bar.get_attribute("max"), (bar.get_attribute("value"), bar.get_attribute("max"))
        assert d.find_element(By.CSS_SELECTOR, ".progress-line").text == "3,008 rows read; merging them into the database…"
        shot(d, SHOTS, "import-progress")
    finally:
        sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%held by the browser test%' "
            "AND pid <> pg_backend_pid()")
        locker.wait()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".summary h2"), "Imported"))
    counts = import_counts(d)
    assert counts["new_subscribers"] == "3,000" and counts["rejected"] == "3", counts
    assert sql("SELECT count(*) FROM subscribers WHERE email LIKE 'reader%@example.net'") == "3000"
    assert sql("SELECT attribs::text FROM subscribers WHERE email = 'reader7@example.net'") == '{"town": "Town 0"}'
    shot(d, SHOTS, "import-done")

    step("import: the rejected rows downloaded, as a file, spreadsheet formulas defused")
    link = d.find_element(By.CSS_SELECTOR, ".summary a.download")
    assert link.get_attribute("download").endswith("-rejects.csv"), link.get_attribute("download")
    got = d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(async (r) =>
          done([r.status, r.headers.get('content-disposition'), await r.text()]));""", link.get_attribute("href"))
    assert got[0] == 200 and got[1].startswith("attachment;"), got[:2]
    assert got[2] == ('line,reason,row\n4,"invalid address ""not-an-email"": no @",not-an-email;Nobody;Nice;\n'
                      '5,no email address,;Empty;Lille;\n6,"invalid address ""=1+2"": no @","\'=1+2;Formula;Rome;"\n'), got[2]
    capture(d, w, SHOTS, "import-390", 390, scroll_to=".summary")


def media_screen(d, w):
    step("images: one uploaded and shown with its size and public address")
    go(d, w, API, "media", "Images")
    before = len(d.find_elements(By.CSS_SELECTOR, ".media-item"))
    d.find_element(By.ID, "media-file").send_keys(f"{WORK}/pixel.gif")
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Upload an image'] button[type=submit]").click()
    w.until(lambda dr: len(dr.find_elements(By.CSS_SELECTOR, ".media-item")) == before + 1)
    first = d.find_element(By.CSS_SELECTOR, ".media-item")
    assert first.find_element(By.CSS_SELECTOR, ".media-name").text == "pixel.gif"
    assert "GIF · 1×1 · 43 bytes" in first.text, first.text
    url = first.find_element(By.CSS_SELECTOR, "input").get_attribute("value")
    assert url.startswith("https://lists.example.com/m/") and url.endswith(".gif"), url
    w.until(lambda dr: dr.execute_script("return [...document.querySelectorAll('.media-item img')].every((i) => i.complete && i.naturalWidth > 0)"))
    assert d.execute_script("return document.querySelector(\".media-item img[alt='logo.png']\").naturalWidth") == 120
    shot(d, SHOTS, "media")

    step("images: the same bytes again are kept once")
    d.find_element(By.ID, "media-file").send_keys(f"{WORK}/pixel.gif")
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Upload an image'] button[type=submit]").click()
    w.until(EC.text_to_be_present_in_element((By.ID, "toast"), "is here already"))
    w.until(lambda dr: len(dr.find_elements(By.CSS_SELECTOR, ".media-item")) == before + 1)

    step("images: an SVG and a PNG named .jpg are refused, in the server's words beside the field")
    d.find_element(By.ID, "media-file").send_keys(f"{WORK}/evil.svg")
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Upload an image'] button[type=submit]").click()
    w.until(lambda dr: form_error(dr, "form[aria-label='Upload an image']") ==
            "SVG images are refused (they can hold scripts); upload a PNG, JPEG, GIF or WebP")
    d.find_element(By.ID, "media-file").send_keys(f"{WORK}/logo-as.jpg")
    d.find_element(By.CSS_SELECTOR, "form[aria-label='Upload an image'] button[type=submit]").click()
    w.until(lambda dr: form_error(dr, "form[aria-label='Upload an image']") == "the file is a PNG image, not image/jpeg as declared")
    assert len(d.find_elements(By.CSS_SELECTOR, ".media-item")) == before + 1
    shot(d, SHOTS, "media-error")
    capture(d, w, SHOTS, "media-390", 390)

    step("images: one removed after its warning")
    item = d.find_element(By.CSS_SELECTOR, ".media-item")
    item.find_element(By.CSS_SELECTOR, "button.danger").click()
    box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".media-item [role=alertdialog]")))
    w.until(lambda _: "broken image" in box.text)
    box.find_element(By.CSS_SELECTOR, "button.danger").click()
    w.until(lambda dr: len(dr.find_elements(By.CSS_SELECTOR, ".media-item")) == before)


def relays(d, w):
    step("settings: a relay added with the form; tested (Enter on the button): every step shown")
    go(d, w, API, "settings/relays", "Settings")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New relay']")
    for name, value in (("name", "mail"), ("host", "127.0.0.1"), ("port", MTA_PORT), ("username", "test"),
                        ("password", RELAY_PW), ("rate", "5/s"), ("quota", "1000/h")):
        form.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.NAME, "tls_verify").click()   # the test Postfix's certificate is self-signed
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    row = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-relay=mail]")))
    assert "password set" in row.text and f"127.0.0.1:{MTA_PORT}" in row.text and "5/s · 1000/h" in row.text, row.text
    assert RELAY_PW not in d.page_source, "the relay's password is in the page"
    test = row.find_element(By.XPATH, ".//button[text()='Test']")
    test.send_keys(Keys.ENTER)
    res = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".relay-test")))
    w.until(lambda _: len(res.find_elements(By.CSS_SELECTOR, "li")) == 5)
    got = [(li.get_attribute("data-step"), li.get_attribute("class")) for li in res.find_elements(By.CSS_SELECTOR, "li")]
    assert got == [("connect", "ok"), ("ehlo", "ok"), ("tls", "ok"), ("auth", "ok"), ("quit", "ok")], got
    assert res.find_element(By.CSS_SELECTOR, "p").text == "The relay works."
    shot(d, SHOTS, "settings-relays")

    step("settings: a relay with a wrong password: the auth step fails with Postfix's reply; removed")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New relay']")
    for name, value in (("name", "badpw"), ("host", "127.0.0.1"), ("port", MTA_PORT), ("username", "test"),
                        ("password", "not-the-password")):
        form.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.NAME, "tls_verify").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    row = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-relay=badpw]")))
    row.find_element(By.XPATH, ".//button[text()='Test']").click()
    res = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "tr[data-relay=badpw] + tr .relay-test")))
    w.until(lambda _: res.find_elements(By.CSS_SELECTOR, "li.failed"))
    assert res.find_element(By.CSS_SELECTOR, "p").text == "The auth step failed."
    failed = res.find_element(By.CSS_SELECTOR, "li.failed").text
    assert failed.startswith("✗auth: failed: 535 5.7.8 Error: authentication failed") or \
        failed.startswith("✗ auth: failed: 535 5.7.8 Error: authentication failed"), failed
    shot(d, SHOTS, "settings-relay-test")
    row = d.find_element(By.CSS_SELECTOR, "tr[data-relay=badpw]")
    row.find_element(By.XPATH, ".//button[text()='Remove']").click()
    box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
    w.until(lambda _: 'Remove the relay "badpw"?' in box.text)
    box.find_element(By.CSS_SELECTOR, "button.danger").click()
    w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "tr[data-relay=badpw]"))
    assert sql("SELECT count(*) FROM relays WHERE name = 'badpw'") == "0"
    capture(d, w, SHOTS, "settings-390", 390)


def dkim(d, w):
    step("settings: a DKIM key made; its DNS record shown to copy; removed after a confirmation")
    d.find_element(By.XPATH, "//nav[@class='tabs']/a[text()='DKIM keys']").click()
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[aria-label='New DKIM key']")))
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New DKIM key']")
    form.find_element(By.NAME, "domain").send_keys("shop.example.com")
    form.find_element(By.NAME, "selector").send_keys("mail2025")
    Select(form.find_element(By.NAME, "algorithm")).select_by_value("ed25519")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    key = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "[data-key='mail2025._domainkey.shop.example.com']")))
    value = key.find_element(By.CSS_SELECTOR, "textarea.record").get_attribute("value")
    assert value.startswith("v=DKIM1; k=ed25519; s=email; p="), value
    assert "PRIVATE" not in d.page_source
    key.find_element(By.XPATH, ".//button[text()='Copy value']").click()
    w.until(lambda dr: dr.find_element(By.ID, "toast").text in ("Copied.", "Select the text and copy it (Ctrl+C)."))
    shot(d, SHOTS, "settings-dkim")
    capture(d, w, SHOTS, "settings-dkim-390", 390, scroll_to="[data-key='mail2025._domainkey.shop.example.com']")
    key.find_element(By.XPATH, ".//button[text()='Remove']").click()
    box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[data-key='mail2025._domainkey.shop.example.com'] [role=alertdialog]")))
    box.find_element(By.CSS_SELECTOR, "button.danger").click()
    w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "[data-key='mail2025._domainkey.shop.example.com']"))


def users(d, w):
    step("settings: a user added, disabled, enabled, given a password, removed")
    d.find_element(By.XPATH, "//nav[@class='tabs']/a[text()='Users']").click()
    form = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[aria-label='New user']")))
    form.find_element(By.NAME, "email").send_keys("carol@example.com")
    form.find_element(By.NAME, "password").send_keys("carol-pass-1")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    row = w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-user='carol@example.com']")))
    assert "user" in row.text and "active" in row.text, row.text
    row.find_element(By.XPATH, ".//button[text()='Disable']").click()
    w.until(lambda dr: "disabled" in dr.find_element(By.CSS_SELECTOR, "tr[data-user='carol@example.com']").text)
    assert sql("SELECT active FROM users WHERE email = 'carol@example.com'") == "f"
    d.find_element(By.CSS_SELECTOR, "tr[data-user='carol@example.com']").find_element(By.XPATH, ".//button[text()='Enable']").click()
    w.until(lambda dr: dr.find_elements(By.XPATH, "//tr[@data-user='carol@example.com']//button[text()='Disable']"))
    d.find_element(By.CSS_SELECTOR, "tr[data-user='carol@example.com']").find_element(By.XPATH, ".//button[text()='Reset password']").click()
    pw = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='New password for carol@example.com']")))
    old = sql("SELECT password_hash FROM users WHERE email = 'carol@example.com'")
    pw.find_element(By.NAME, "password").send_keys("carol-pass-2", Keys.ENTER)
    w.until(lambda _: sql("SELECT password_hash FROM users WHERE email = 'carol@example.com'") != old)
    # the list is drawn again once the password is set: read the own row at one moment
    w.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='New password for carol@example.com']")))
    until_shows(w, lambda dr: dr.execute_script(
        "const r = document.querySelector(\"tr[data-user='admin@example.com']\");"
        " return r ? [r.innerText.includes('(you)'), r.querySelectorAll('button').length] : null"), [True, 0])
    shot(d, SHOTS, "settings-users")
    capture(d, w, SHOTS, "settings-users-390", 390)
    d.find_element(By.CSS_SELECTOR, "tr[data-user='carol@example.com']").find_element(By.XPATH, ".//button[text()='Remove']").click()
    box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
    box.find_element(By.CSS_SELECTOR, "button.danger").click()
    w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "tr[data-user='carol@example.com']"))
    assert sql("SELECT count(*) FROM users WHERE email = 'carol@example.com'") == "0"


def account(d, w, password):
    step("account: a token made with the password, shown once, listed by name only, revoked")
    go(d, w, API, "account", "Your account")
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New API token']")
    form.find_element(By.NAME, "name").send_keys("browser <b>test</b>")
    form.find_element(By.NAME, "password").send_keys(password, Keys.ENTER)
    once = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".once")))
    token = once.find_element(By.CSS_SELECTOR, "input.token-value").get_attribute("value")
    assert token.startswith("pst_") and "shown this once" in once.text, once.text
    shot(d, SHOTS, "account-token")
    capture(d, w, SHOTS, "account-390", 390)
    once.find_element(By.XPATH, ".//button[text()='Done']").click()
    row = w.until(EC.presence_of_element_located((By.XPATH, "//table[contains(@class,'tokens')]//tr[td/strong[text()='browser <b>test</b>']]")))
    assert token not in d.page_source, "the token is shown again"
    row.find_element(By.XPATH, ".//button[text()='Revoke']").click()
    box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
    box.find_element(By.CSS_SELECTOR, "button.danger").click()
    w.until(lambda dr: not dr.find_elements(By.XPATH, "//tr[td/strong[text()='browser <b>test</b>']]"))


def main():
    with session(SHOTS, "settings-failure") as (d, w):
        step("log in as the admin: the navigation has Import, Images, Settings and Account")
        login(d, w, API, "admin@example.com", "admin-pass-1")
        nav = [a.text for a in d.find_elements(By.CSS_SELECTOR, "#nav a")]
        for s in ("Import", "Images", "Settings", "Account"):
            assert s in nav, nav
        import_screen(d, w)
        media_screen(d, w)
        relays(d, w)
        dkim(d, w)
        users(d, w)
        account(d, w, "admin-pass-1")

        step("the user role: no Settings in the navigation; #/settings typed says the server refused it (403)")
        logout(d, w)
        login(d, w, API, "user@example.com", "user-pass-1")
        nav = [a.text for a in d.find_elements(By.CSS_SELECTOR, "#nav a")]
        assert "Settings" not in nav and "Import" in nav and "Account" in nav, nav
        d.get(f"{API}/admin/#/settings")
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Settings"))
        msg = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "main .form-error"))).text
        assert msg.startswith("Settings are for administrators: the server refused them to your account (403 forbidden)."), msg
        assert not d.find_elements(By.CSS_SELECTOR, "main form"), "a settings form shows to the user role"
        shot(d, SHOTS, "settings-forbidden")

        step("the user role: its own password changed; the session ends; the new password logs in")
        go(d, w, API, "account", "Your account")
        form = d.find_element(By.CSS_SELECTOR, "form[aria-label='Change your password']")
        form.find_element(By.NAME, "current_password").send_keys("user-pass-1")
        form.find_element(By.NAME, "password").send_keys("user-pass-9")
        form.find_element(By.NAME, "again").send_keys("user-pass-8")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        w.until(lambda dr: form_error(dr, "form[aria-label='Change your password']") == "The two new passwords differ.")
        again = form.find_element(By.NAME, "again")
        again.clear()
        again.send_keys("user-pass-9", Keys.ENTER)
        w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
        login(d, w, API, "user@example.com", "user-pass-9")
        assert "user@example.com" in d.find_element(By.ID, "who").text


if __name__ == "__main__":
    main()
