"""admin_browser - drive the web admin in a real headless Chromium (Debian's
chromium and chromium-driver through python3-selenium), as a person would:
log in (a wrong password first), make a list whose name is markup, find it
shown as text, delete it through its confirmation, read a list's counts by
status, change its name, opt-in and description with the keyboard (a taken
or empty name refused beside the field), read what deleting it would remove
and that a list a campaign uses is not deleted, use the keyboard, look at
the page 390 px wide, log out and find the admin closed. Saves a screenshot
of each screen under SHOTS. Waits for states, never for a fixed time.

usage: admin_browser.py API_URL SHOTS_DIR   (prints "ok N steps" at the end)
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from admin_lib import capture, logout, resize, session, shot, sql, step, tab_reaches, texts

API, SHOTS = sys.argv[1], sys.argv[2]


def row_of(d, name):
    """the Lists table's row of the list NAME"""
    return [r for r in d.find_elements(By.CSS_SELECTOR, "main tbody tr[data-list]")
            if r.find_element(By.CSS_SELECTOR, "td strong").text == name][0]


def cells(d, name):
    """the texts of the row of list NAME, but its buttons"""
    return d.execute_script(
        "const r = [...document.querySelectorAll('main tbody tr[data-list]')]"
        ".find((r) => r.cells[0].innerText === arguments[0]);"
        "return r ? [...r.cells].slice(0, 6).map((c) => c.innerText) : null", name)


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
        assert names == ["kept", "weekly"], names
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
        w.until(lambda _: "0 subscriptions" in box.text and name in box.text)   # its counts come from the server
        shot(d, SHOTS, "lists-delete")
        box.find_element(By.CSS_SELECTOR, "button.danger").click()
        w.until(lambda dr: name not in texts(dr, "main tbody td:first-child"))

        step("each list's subscriptions by status")
        assert cells(d, "weekly") == ["weekly", "single", "", "2", "1", "1"], cells(d, "weekly")
        assert cells(d, "kept")[3:] == ["0", "0", "0"], cells(d, "kept")

        step("edit: a form under the row, the name focused; a taken name is refused beside the field")
        row_of(d, "weekly").find_element(By.XPATH, ".//button[text()='Edit']").click()
        form = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='Edit list weekly']")))
        name_in = form.find_element(By.NAME, "name")
        assert d.switch_to.active_element == name_in, "the name field does not have the focus"
        assert name_in.get_attribute("value") == "weekly"
        label = form.find_element(By.CSS_SELECTOR, f"label[for='{name_in.get_attribute('id')}']")
        assert label.text == "Name", label.text
        name_in.send_keys(Keys.CONTROL, "a")
        name_in.send_keys("kept", Keys.ENTER)
        err = form.find_element(By.CSS_SELECTOR, ".field[data-field=name] .error")
        w.until(lambda _: err.text != "")
        assert err.text == 'list "kept" already exists', err.text
        shot(d, SHOTS, "lists-edit-error")
        name_in.send_keys(Keys.CONTROL, "a")
        name_in.send_keys(Keys.DELETE, Keys.ENTER)
        w.until(lambda _: err.text == "the list name must be 1 to 200 characters")

        step("edit with the keyboard: a new name, double opt-in, a description; Enter saves")
        name_in.send_keys("Weekly digest", Keys.TAB)
        optin = d.switch_to.active_element
        assert optin.get_attribute("name") == "optin", optin.get_attribute("name")
        optin.send_keys(Keys.ARROW_DOWN)
        optin.send_keys(Keys.TAB)
        desc = d.switch_to.active_element
        assert desc.get_attribute("name") == "description", desc.get_attribute("name")
        desc.send_keys("Every Monday", Keys.ENTER)
        w.until(lambda dr: "Weekly digest" in texts(dr, "main tbody tr[data-list] td:first-child"))
        assert cells(d, "Weekly digest") == ["Weekly digest", "double", "Every Monday", "2", "1", "1"], \
            cells(d, "Weekly digest")
        shot(d, SHOTS, "lists-edited")

        step("Escape closes the form and gives the focus back to its Edit button")
        edit = row_of(d, "kept").find_element(By.XPATH, ".//button[text()='Edit']")
        edit.click()
        form = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='Edit list kept']")))
        d.switch_to.active_element.send_keys(Keys.ESCAPE)
        w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "form[aria-label='Edit list kept']"))
        assert d.switch_to.active_element == edit, "the focus did not go back to Edit"

        step("the signup form: the snippet to paste and the hosted page's link")
        row_of(d, "kept").find_element(By.XPATH, ".//button[text()='Form']").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog][aria-label='Signup form of list kept']")))
        w.until(lambda _: box.find_elements(By.CSS_SELECTOR, "textarea.snippet"))
        code = box.find_element(By.CSS_SELECTOR, "textarea.snippet").get_attribute("value")
        kept = sql("SELECT id FROM lists WHERE name = 'kept'")
        assert f'<input type="hidden" name="list" value="{kept}">' in code and 'name="website"' in code, code
        assert box.find_element(By.CSS_SELECTOR, "a.hosted").get_attribute("href").endswith(f"/s/{kept}")
        shot(d, SHOTS, "lists-form")
        d.switch_to.active_element.send_keys(Keys.ESCAPE)
        w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "[role=dialog][aria-label='Signup form of list kept']"))

        step("edit: private, a welcome message and its subject; the row says private and its form is refused")
        row_of(d, "kept").find_element(By.XPATH, ".//button[text()='Edit']").click()
        form = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='Edit list kept']")))
        Select(form.find_element(By.NAME, "public")).select_by_value("no")
        Select(form.find_element(By.NAME, "welcome_template")).select_by_value("newsletter")
        subj = form.find_element(By.NAME, "welcome_subject")
        subj.send_keys(Keys.CONTROL, "a")
        subj.send_keys("Hello from {{ list.name }}")
        shot(d, SHOTS, "lists-edit-welcome")
        form.find_element(By.XPATH, ".//button[text()='Save']").click()
        w.until(lambda dr: "kept (private)" in texts(dr, "main tbody td:first-child"))
        got = sql("SELECT l.public::text || ' ' || t.name || ' ' || l.welcome_subject FROM lists l"
                  " JOIN templates t ON t.id = l.welcome_template_id WHERE l.name = 'kept'")
        assert got == "false newsletter Hello from {{ list.name }}", got
        row_of(d, "kept").find_element(By.XPATH, ".//button[text()='Form']").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog][aria-label='Signup form of list kept']")))
        assert 'The list "kept" is private' in box.text, box.text
        d.switch_to.active_element.send_keys(Keys.ESCAPE)

        step("delete says what it removes (by status) and that the subscribers stay; Keep it keeps it")
        row_of(d, "Weekly digest").find_element(By.CSS_SELECTOR, "button.danger").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        w.until(lambda _: "Delete the list" in box.text)
        assert box.text.startswith('Delete the list "Weekly digest"? This removes its 4 subscriptions '
                                   "(2 confirmed, 1 unconfirmed, 1 unsubscribed). The subscribers stay"), box.text
        assert d.switch_to.active_element.text == "Delete", d.switch_to.active_element.text
        shot(d, SHOTS, "lists-delete-counts")
        box.find_element(By.XPATH, ".//button[text()='Keep it']").click()
        w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "[role=alertdialog]"))

        step("a list a campaign uses: the confirmation names the campaign and offers no Delete")
        row_of(d, "kept").find_element(By.CSS_SELECTOR, "button.danger").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        w.until(lambda _: "cannot be deleted" in box.text)
        assert 'The list "kept" cannot be deleted: campaign "Spring" (draft) uses it.' in box.text, box.text
        assert not box.find_elements(By.CSS_SELECTOR, "button.danger"), "a Delete button for a list in use"
        shot(d, SHOTS, "lists-delete-refused")
        d.switch_to.active_element.send_keys(Keys.ESCAPE)
        w.until(lambda dr: not dr.find_elements(By.CSS_SELECTOR, "[role=alertdialog]"))

        step("keyboard: Tab from the page reaches the navigation and the log-out button")
        tab_reaches(d, ["Lists", "Log out"])   # the navigation grows with the screens

        step("390 px wide: no sideways scrolling, the table becomes cards")
        resize(d, w, 390)
        assert not d.find_element(By.CSS_SELECTOR, "main thead").is_displayed(), "the table head shows at 390 px"
        capture(d, w, SHOTS, "lists-390", 390)
        resize(d, w, 390)
        row_of(d, "kept").find_element(By.XPATH, ".//button[text()='Edit']").click()
        w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form[aria-label='Edit list kept']")))
        capture(d, w, SHOTS, "lists-edit-390", 390)
        d.switch_to.active_element.send_keys(Keys.ESCAPE)

        step("log out: the login form again, and the admin refuses the old session")
        logout(d, w)
        d.get(API + "/admin/#/lists")
        w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
        assert not d.find_elements(By.CSS_SELECTOR, "main table"), "the lists show after logout"
        shot(d, SHOTS, "logged-out")


if __name__ == "__main__":
    main()
