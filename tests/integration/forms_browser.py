"""forms_browser - the signup form in a browser (test_forms.sh).

    forms_browser.py API NEWS_ID WEEKLY_ID SHOTS
        open the hosted page for news and weekly (the server asks a proof of
        work), see the error for a missing choice, tick both, sign up as
        walker@example.org; the page's script solves the challenge and the
        answer says to look for the confirmation; no console errors
    forms_browser.py --confirm CONFIRM_URL PREFS_URL WEEKLY_ID SHOTS
        press Confirm on the confirmation page, then leave weekly on the
        preference page
    forms_browser.py --site SITE_URL API EMAIL CHALLENGE NONCE WEEKLY_ID SHOTS
        the snippet pasted into a page of another origin (SITE_URL): its
        script fetches a challenge across origins, solves it, and the post
        lands on the server's thank-you page; then that site's own script
        posts JSON across origins (a preflight) with a solved CHALLENGE and
        NONCE for EMAIL and reads the answer
Screenshots at 1280 and 390 px under SHOTS.
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import NARROW, capture, console_errors, session, step

if sys.argv[1] == "--confirm":
    confirm_url, prefs_url, weekly, shots = sys.argv[2:6]
    with session(shots, "forms-confirm-failure") as (d, w):
        step("the confirmation page: pressing Confirm confirms")
        d.get(confirm_url)
        w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Confirm your subscription"))
        d.find_element(By.ID, "confirm").click()
        w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Subscription confirmed"))
        step("the preference page: leave weekly, Save")
        d.get(prefs_url)
        w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Your subscriptions"))
        box = d.find_element(By.ID, f"list-{weekly}")
        assert box.is_selected()
        box.click()
        d.find_element(By.ID, "save").click()
        w.until(EC.text_to_be_present_in_element((By.ID, "notice"), "Your preferences are saved."))
        assert not d.find_element(By.ID, f"list-{weekly}").is_selected()
    sys.exit(0)

if sys.argv[1] == "--site":
    site, api, email, challenge, nonce, weekly, shots = sys.argv[2:9]
    with session(shots, "forms-site-failure") as (d, w):
        step("the snippet on another site: its script solves the challenge, the post is taken")
        d.get(site)
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[data-postino-signup]")))
        d.find_element(By.NAME, "email").send_keys("elsewhere@example.org")
        capture(d, w, shots, "signup-snippet-1280")
        d.find_element(By.CSS_SELECTOR, "form[data-postino-signup] button").click()
        w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Thank you"))
        assert d.current_url.startswith(api), f"not on the server's page: {d.current_url}"
        step("the site's own script posts JSON across origins and reads the answer")
        d.get(site)
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[data-postino-signup]")))
        got = d.execute_async_script(
            """
            var done = arguments[arguments.length - 1];
            fetch(arguments[0] + "/s", {method: "POST", credentials: "omit",
                  headers: {"Content-Type": "application/json"},
                  body: JSON.stringify({email: arguments[1], lists: [+arguments[4]],
                                        pow_challenge: arguments[2], pow_nonce: arguments[3]})})
              .then(function (r) { return r.json().then(function (j) { done([r.status, j]); }); })
              .catch(function (e) { done(["failed", String(e)]); });
            """, api, email, challenge, nonce, weekly)
        assert got[0] == 200, f"the JSON post from another origin: {got}"
        assert got[1].get("status") in ("confirm", "subscribed"), f"the answer: {got}"
        errs = console_errors(d)
        assert not errs, f"console errors: {errs}"
    sys.exit(0)

api, news, weekly, shots = sys.argv[1:5]
with session(shots, "forms-failure") as (d, w):
    step("the hosted page for two lists: both to choose, nothing ticked")
    d.get(f"{api}/s/{news},{weekly}")
    w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Subscribe"))
    assert not d.find_element(By.ID, f"list-{news}").is_selected()
    assert not d.find_element(By.ID, f"list-{weekly}").is_selected()
    hp = d.find_element(By.NAME, "website")
    assert not hp.is_displayed() or hp.rect["x"] < 0, "the honeypot field is visible"
    capture(d, w, shots, "signup-1280")
    capture(d, w, shots, "signup-390", width=NARROW[0])

    step("no list chosen: the page again, saying so")
    d.find_element(By.ID, "email").send_keys("walker@example.org")
    d.find_element(By.ID, "subscribe").click()
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "body")))
    w.until(lambda d: "Choose at least one list." in d.find_element(By.TAG_NAME, "body").text)

    step("both ticked, a name: the script solves the challenge; the answer says to confirm")
    d.get(f"{api}/s/{news},{weekly}")
    w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Subscribe"))
    d.find_element(By.ID, "email").send_keys("walker@example.org")
    d.find_element(By.ID, "name").send_keys("Wanda Walker")
    d.find_element(By.ID, f"list-{news}").click()
    d.find_element(By.ID, f"list-{weekly}").click()
    d.find_element(By.ID, "subscribe").click()
    w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Thank you"))
    assert "Almost done" in d.find_element(By.ID, "done").text
    capture(d, w, shots, "signup-done-1280")
    capture(d, w, shots, "signup-done-390", width=NARROW[0])
    errs = console_errors(d)
    assert not errs, f"console errors: {errs}"
