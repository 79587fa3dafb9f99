"""admin_browser - drive the web admin in a real headless Chromium (Debian's
chromium and chromium-driver through python3-selenium), as a person would:
log in (a wrong password first), make a list whose name is markup, find it
shown as text, delete it through its confirmation, use the keyboard, look at
the page 390 px wide, log out and find the admin closed. Saves a screenshot
of each screen under SHOTS. Waits for states, never for a fixed time.

usage: admin_browser.py API_URL SHOTS_DIR   (prints "ok N steps" at the end)
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import capture, logout, resize, session, shot, step, tab_reaches, texts

API, SHOTS = sys.argv[1], sys.argv[2]


def main():
    with session(SHOTS, "failure") as (d, w):
        step("the login page")
        d.get(API + "/admin/")
        w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
        email = d.find_element(By.CSS_SELECTOR, "input[name=email]")
        assert d.switch_to.active_element == email, "the email field does not have the focus"
        label = d.find_element(By.CSS_SELECTOR, f"label[for='{email.get_attribute('id')}']")
        assert label.text == "Email", label.text
        shot(d, SHOTS, "login")

        step("a wrong password: the error is shown, the form stays")
        email.send_keys("admin@example.com")
        d.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("not-the-password", Keys.ENTER)
        err = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".login .form-error")))
        w.until(lambda _: err.text != "")
        assert err.text == "the email or the password is wrong", err.text
        shot(d, SHOTS, "login-error")

        step("the right password (typed, sent with Enter): the dashboard, then the lists screen")
        pw = d.find_element(By.CSS_SELECTOR, "input[name=password]")
        pw.clear()
        pw.send_keys("admin-pass-1", Keys.ENTER)
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Dashboard"))
        who = d.find_element(By.ID, "who").text
        assert "admin@example.com" in who, who
        d.find_element(By.CSS_SELECTOR, "#nav a[href='#/lists']").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Lists"))
        assert d.find_element(By.CSS_SELECTOR, "#nav a[aria-current=page]").text == "Lists"
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main table tbody tr")))
        names = texts(d, "main tbody td:first-child")
        assert names == ["weekly"], names
        shot(d, SHOTS, "lists")

        step("a list named with markup is made and shown as its characters")
        name = "Monthly <b>news</b>"
        form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New list']")
        form.find_element(By.NAME, "name").send_keys(name)
        form.find_element(By.NAME, "description").send_keys("<img src=x onerror=alert(2)>")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        w.until(lambda dr: name in texts(dr, "main tbody td:first-child"))
        assert not d.find_elements(By.CSS_SELECTOR, "main tbody b"), "the name's markup became an element"
        assert not d.find_elements(By.CSS_SELECTOR, "main tbody img"), "the description's markup became an element"
        shot(d, SHOTS, "lists-created")

        step("the same name again: the error is shown beside the name field")
        form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New list']")
        form.find_element(By.NAME, "name").send_keys(name)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        msg = w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, "form[aria-label='New list'] .form-error").text
                      or dr.find_element(By.CSS_SELECTOR, "form[aria-label='New list'] .field .error").text)
        assert "exists" in msg or "already" in msg, msg

        step("delete asks first, says what goes with the list, then deletes it")
        row = [r for r in d.find_elements(By.CSS_SELECTOR, "main tbody tr")
               if r.find_elements(By.CSS_SELECTOR, "td") and r.find_element(By.CSS_SELECTOR, "td").text == name][0]
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        assert "0 subscriptions" in box.text and name in box.text, box.text
        shot(d, SHOTS, "lists-delete")
        box.find_element(By.CSS_SELECTOR, "button.danger").click()
        w.until(lambda dr: name not in texts(dr, "main tbody td:first-child"))

        step("keyboard: Tab from the page reaches the navigation and the log-out button")
        tab_reaches(d, ["Lists", "Log out"])   # the navigation grows with the screens

        step("390 px wide: no sideways scrolling, the table becomes cards")
        resize(d, w, 390)
        assert not d.find_element(By.CSS_SELECTOR, "main thead").is_displayed(), "the table head shows at 390 px"
        capture(d, w, SHOTS, "lists-390", 390)

        step("log out: the login form again, and the admin refuses the old session")
        logout(d, w)
        d.get(API + "/admin/#/lists")
        w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
        assert not d.find_elements(By.CSS_SELECTOR, "main table"), "the lists show after logout"
        shot(d, SHOTS, "logged-out")


if __name__ == "__main__":
    main()
