"""admin_subscribers - drive the Subscribers screens in a real headless
Chromium as a person would: log in, search by a piece of a name (too short
first), filter by list, page forward and back, open a subscriber, edit its
name and attributes (a bad one refused beside the field; the database
checked), read its deliveries with their SMTP replies, its bounce, open and
click, unsubscribe from a list and subscribe again, look at it 390 px wide,
find a subscriber named <script>alert(1)</script> and markup in an attribute
shown as text, blocklist one, delete one, add one. A screenshot of each state
goes to SHOTS/subscribers-*.png. Waits for states, never for a fixed time.

usage: admin_subscribers.py API_URL SHOTS_DIR ANN_ID XSS_ID   (prints "ok N steps" at the end)
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from admin_lib import capture, go, login, resize, session, shot, sql, step, tab_reaches, texts

API, SHOTS, ANN, XSS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def snap(d, w, name, top=False, whole=False, width=1280):
    """SHOTS/subscribers-NAME.png at WIDTH px: of the page from its top with TOP, all of its height with WHOLE"""
    if top or whole:
        d.execute_script("window.scrollTo(0, 0)")
    if whole or width != 1280:
        capture(d, w, SHOTS, f"subscribers-{name}", width, whole=whole)
    else:
        shot(d, SHOTS, f"subscribers-{name}")


def emails(d):
    return texts(d, "main table.subs tbody td[data-label=Email]")


def search(d, w, **f):
    """fill the find form with F (q, attr, list, status; the rest cleared) and submit it with Enter; waits for the answer"""
    f = {"q": "", "attr": "", "list": "any list", "status": "any status", **f}
    form = d.find_element(By.CSS_SELECTOR, "form[role=search]")
    for name in ("q", "attr"):
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(f[name])
    for name in ("list", "status"):
        Select(form.find_element(By.NAME, name)).select_by_visible_text(f[name])
    d.execute_script("document.querySelector('.pager') && document.querySelector('.pager').remove()")
    form.find_element(By.NAME, "q").send_keys(Keys.ENTER)
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, ".pager") or
            dr.find_element(By.CSS_SELECTOR, "form[role=search] .field.invalid"))


def pager(d, w, label, expect_page):
    d.find_element(By.XPATH, f"//div[contains(@class,'pager')]/button[text()='{label}']").click()
    w.until(lambda dr: texts(dr, ".pager span") and texts(dr, ".pager span")[0].startswith(f"Page {expect_page}:"))


def rows_of(d, section):
    return d.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' tbody tr')]"
        ".map((r) => [...r.querySelectorAll('td')].map((c) => c.innerText))", f"#{section}")


def main():
    with session(SHOTS, "subscribers-failure") as (d, w):
        step("log in; the Subscribers screen is in the navigation")
        login(d, w, API, "admin@example.com", "admin-pass-1")
        d.find_element(By.CSS_SELECTOR, "#nav a[href='#/subscribers']").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Subscribers"))
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main table.subs tbody tr")))
        assert d.find_element(By.CSS_SELECTOR, "#nav a[aria-current=page]").text == "Subscribers"
        first = emails(d)
        assert len(first) == 50 and first[:4] == ["ann@example.com", "bob@example.org", "deal@example.org",
                                                  "xss@example.com"], first[:6]
        pg = texts(d, ".pager span")[0]
        assert pg == "Page 1: 50 shown (IDs 1–50), more…", pg
        lists = texts(d, "main table.subs tbody td[data-label=Lists]")
        assert lists[:5] == ["news, weekly", "news", "news", "news", "weekly"], lists[:5]
        names = texts(d, "main table.subs tbody td[data-label=Name]")
        assert "<script>alert(1)</script>" in names, names[:5]
        assert not d.find_elements(By.CSS_SELECTOR, "main script"), "a name became a script element"
        snap(d, w, "list", top=True)

        step("a search of two characters: refused beside the search field")
        search(d, w, q="an")
        err = d.find_element(By.CSS_SELECTOR, "form[role=search] .field[data-field=q] .error").text
        assert err == "the search text needs at least 3 characters (a piece of an address or a name)", err
        snap(d, w, "search-short")

        step("a search by a piece of a name, any case: one subscriber")
        search(d, w, q="SMI")
        assert emails(d) == ["ann@example.com"], emails(d)
        assert not d.find_elements(By.CSS_SELECTOR, "form[role=search] .field.invalid"), "the error stayed"
        assert texts(d, ".pager span")[0] == "Page 1: 1 shown (IDs %s–%s)" % (ANN, ANN), texts(d, ".pager span")
        snap(d, w, "search")

        step("filter by list: weekly, 121 subscribers in pages of 50")
        search(d, w, list="weekly")
        e = emails(d)
        assert len(e) == 50 and e[0] == "ann@example.com" and e[1] == "pager001@paging.example" \
            and e[-1] == "pager049@paging.example", (e[:2], e[-1])
        assert not d.find_element(By.XPATH, "//div[contains(@class,'pager')]/button[text()='Next →']") \
            .get_attribute("disabled")
        snap(d, w, "list-filter")

        step("page forward twice, then back twice")
        pager(d, w, "Next →", 2)
        e = emails(d)
        assert (len(e), e[0], e[-1]) == (50, "pager050@paging.example", "pager099@paging.example"), (e[0], e[-1])
        snap(d, w, "page-2")
        pager(d, w, "Next →", 3)
        e = emails(d)
        assert (len(e), e[0], e[-1]) == (21, "pager100@paging.example", "pager120@paging.example"), (e[0], e[-1])
        assert d.find_element(By.XPATH, "//div[contains(@class,'pager')]/button[text()='Next →']") \
            .get_attribute("disabled") is not None, "Next is enabled on the last page"
        assert not texts(d, ".pager span")[0].endswith("more…"), texts(d, ".pager span")
        pager(d, w, "← Previous", 2)
        assert emails(d)[0] == "pager050@paging.example", emails(d)[0]
        pager(d, w, "← Previous", 1)
        assert emails(d)[0] == "ann@example.com", emails(d)[0]

        step("open a subscriber: details, subscriptions, deliveries with SMTP replies, bounce, open and click")
        d.find_element(By.LINK_TEXT, "ann@example.com").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "ann@example.com"))
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#events tbody tr")))
        assert d.find_element(By.CSS_SELECTOR, "form[aria-label='Subscriber details'] input[name=name]") \
            .get_attribute("value") == "Ann B. Smith"
        keys = [x.get_attribute("value") for x in d.find_elements(By.CSS_SELECTOR, ".attr-key")]
        vals = [x.get_attribute("value") for x in d.find_elements(By.CSS_SELECTOR, ".attr-value")]
        assert list(zip(keys, vals)) == [("plan", "pro"), ("tier", "gold")], list(zip(keys, vals))
        subs = rows_of(d, "subscriptions")
        assert [r[:2] for r in subs] == [["news", "confirmed"], ["weekly", "confirmed"]], subs
        dl = rows_of(d, "deliveries")
        assert [(r[0], r[1], r[2], r[3], r[5], r[6]) for r in dl] == [
            ("Autumn news", "deferred", "2", "451 4.7.1 Greylisted, try again later", "0", "0"),
            ("Summer news", "failed", "1", "552 5.2.2 Mailbox full <ann@example.com>", "0", "0"),
            ("Spring <b>sale</b>", "sent", "1", "250 2.0.0 Ok: queued as 4XyZ1", "3", "2")], dl
        bo = rows_of(d, "bounces")
        assert [(r[1], r[2], r[3], r[4]) for r in bo] == [
            ("soft", "5.2.2", "smtp; 552 5.2.2 <b>Mailbox</b> full", "Summer news")], bo
        ev = rows_of(d, "events")
        assert [(r[0], r[1], r[2], r[3]) for r in ev] == [
            ("Spring <b>sale</b>", "open", "—", "3"),
            ("Spring <b>sale</b>", "click", "https://shop.example/<b>deal</b>?a=1&b=2", "2")], ev
        assert not d.find_elements(By.CSS_SELECTOR, "main b"), "markup in a campaign name, diagnostic or URL became an element"
        snap(d, w, "one", whole=True)

        step("an attribute with no name: refused beside the attributes, nothing saved")
        d.find_element(By.XPATH, "//button[text()='Add attribute']").click()
        new_key = d.switch_to.active_element
        assert "attr-key" in new_key.get_attribute("class"), "Add attribute does not focus the new name"
        new_key.send_keys(Keys.TAB)
        d.switch_to.active_element.send_keys("orphan")
        d.find_element(By.XPATH, "//form[@aria-label='Subscriber details']//button[text()='Save']").click()
        err = w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, ".field[data-field=attribs] .error").text)
        assert err == "an attribute name is empty", err
        assert sql(f"SELECT attribs::text FROM subscribers WHERE id = {ANN}") == '{"plan": "pro", "tier": "gold"}'
        snap(d, w, "edit-error")
        d.find_elements(By.CSS_SELECTOR, ".attr-row")[-1].find_element(By.XPATH, ".//button[text()='Remove']").click()

        step("edit the name and an attribute, add one with markup, remove one: saved, in the database")
        name = d.find_element(By.CSS_SELECTOR, "form[aria-label='Subscriber details'] input[name=name]")
        name.clear()
        name.send_keys("Ann Browser")
        plan = d.find_elements(By.CSS_SELECTOR, ".attr-value")[0]
        plan.clear()
        plan.send_keys("enterprise")
        d.find_element(By.XPATH, "//button[text()='Add attribute']").click()
        d.switch_to.active_element.send_keys("source", Keys.TAB)
        d.switch_to.active_element.send_keys("admin <b>form</b>")
        d.find_elements(By.CSS_SELECTOR, ".attr-row")[1].find_element(By.XPATH, ".//button[text()='Remove']").click()
        details = d.find_element(By.CSS_SELECTOR, "form[aria-label='Subscriber details']")
        details.find_element(By.XPATH, ".//button[text()='Save']").click()
        w.until(lambda dr: sql(f"SELECT name FROM subscribers WHERE id = {ANN}") == "Ann Browser")
        w.until(EC.staleness_of(details))   # the screen drawn again after the save: what follows finds the new one
        assert sql(f"SELECT attribs::text FROM subscribers WHERE id = {ANN}") == \
            '{"plan": "enterprise", "source": "admin <b>form</b>"}', sql(f"SELECT attribs::text FROM subscribers WHERE id = {ANN}")
        w.until(lambda dr: [x.get_attribute("value") for x in dr.find_elements(By.CSS_SELECTOR, ".attr-key")] ==
                ["plan", "source"])
        assert not d.find_elements(By.CSS_SELECTOR, "main b"), "the attribute's markup became an element"
        snap(d, w, "edited")

        step("unsubscribe from weekly (kept, unsubscribed); unsubscribe from news and subscribe again")
        def sub_button(listname, label):
            return d.find_element(By.XPATH, f"//div[@id='subscriptions']//tr[@data-list='{listname}']//button[text()='{label}']")
        sub_button("weekly", "Unsubscribe").click()
        w.until(lambda dr: [r[:2] for r in rows_of(dr, "subscriptions")] == [["news", "confirmed"], ["weekly", "unsubscribed"]])
        sub_button("news", "Unsubscribe").click()
        w.until(lambda dr: rows_of(dr, "subscriptions")[0][1] == "unsubscribed")
        sub_button("news", "Resubscribe").click()
        w.until(lambda dr: [r[:2] for r in rows_of(dr, "subscriptions")] == [["news", "confirmed"], ["weekly", "unsubscribed"]])
        assert sql(f"SELECT string_agg(l.name || '=' || sl.status, ',' ORDER BY l.name) FROM subscriptions sl"
                  f" JOIN lists l ON l.id = sl.list_id WHERE sl.subscriber_id = {ANN}") == "news=confirmed,weekly=unsubscribed"
        snap(d, w, "unsubscribed")

        step("keyboard: Tab reaches the attribute buttons, Save, Resubscribe, Blocklist and Delete")
        tab_reaches(d, ["Save", "Add attribute", "Remove", "Resubscribe", "Blocklist", "Delete"], start="main h1")

        step("390 px wide: no sideways scrolling, the tables become cards")
        resize(d, w, 390)
        assert not d.find_element(By.CSS_SELECTOR, "#deliveries thead").is_displayed(), "the table head shows at 390 px"
        snap(d, w, "one-390", whole=True, width=390)
        go(d, w, API, "subscribers", "Subscribers")
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main table.subs tbody tr")))
        snap(d, w, "list-390", top=True, width=390)

        step("the subscriber named <script>alert(1)</script>, with markup in an attribute: text everywhere")
        go(d, w, API, f"subscribers/{XSS}", "xss@example.com")
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".attr-value")))
        assert d.find_element(By.CSS_SELECTOR, "form[aria-label='Subscriber details'] input[name=name]") \
            .get_attribute("value") == "<script>alert(1)</script>"
        assert d.find_element(By.CSS_SELECTOR, ".attr-value").get_attribute("value") == "<img src=x onerror=alert(2)>"
        assert not d.find_elements(By.CSS_SELECTOR, "main script, main img"), "markup became an element"

        step("its 25 deliveries: 20 shown, Show older brings the other 5 and goes")
        w.until(lambda dr: len(rows_of(dr, "deliveries")) == 20)
        assert rows_of(d, "deliveries")[0][0] == "Bulk 25", rows_of(d, "deliveries")[0]
        d.find_element(By.XPATH, "//div[@id='deliveries']//button[text()='Show older']").click()
        w.until(lambda dr: len(rows_of(dr, "deliveries")) == 25)
        assert rows_of(d, "deliveries")[-1][0] == "Bulk 1", rows_of(d, "deliveries")[-1]
        assert not d.find_element(By.XPATH, "//div[@id='deliveries']//button[text()='Show older']").is_displayed()
        go(d, w, API, "subscribers", "Subscribers")
        search(d, w, q="script")
        assert texts(d, "main table.subs tbody td[data-label=Name]") == ["<script>alert(1)</script>"]
        assert not d.find_elements(By.CSS_SELECTOR, "main script, main img"), "markup became an element"
        snap(d, w, "xss")

        step("blocklist bob after the confirmation")
        search(d, w, q="jones")
        d.find_element(By.LINK_TEXT, "bob@example.org").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "bob@example.org"))
        w.until(EC.element_to_be_clickable((By.XPATH, "//button[text()='Blocklist']"))).click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        w.until(lambda _: "unsubscribed from every list" in box.text)
        box.find_element(By.CSS_SELECTOR, "button.danger").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".meta .badge"), "blocklisted"))
        w.until(lambda dr: dr.find_element(By.XPATH, "//button[text()='Blocklist']").get_attribute("disabled") is not None)
        assert rows_of(d, "subscriptions")[0] == ["news", "unsubscribed", "single", rows_of(d, "subscriptions")[0][3],
                                                  "blocklisted"], rows_of(d, "subscriptions")
        assert not d.find_elements(By.XPATH, "//button[text()='Resubscribe']"), "a blocklisted subscriber offers Resubscribe"
        assert sql("SELECT status FROM subscribers WHERE email = 'bob@example.org'") == "blocklisted"
        snap(d, w, "blocklist")

        step("delete deal@ after the confirmation: back on the list, gone")
        go(d, w, API, "subscribers", "Subscribers")
        search(d, w, q="0%_")
        assert emails(d) == ["deal@example.org"], emails(d)
        d.find_element(By.LINK_TEXT, "deal@example.org").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "deal@example.org"))
        d.find_element(By.XPATH, "//button[text()='Delete']").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        w.until(lambda _: "blocklist it instead" in box.text)
        box.find_element(By.XPATH, ".//button[text()='Cancel']").click()
        assert not d.find_elements(By.CSS_SELECTOR, "[role=alertdialog]")
        d.find_element(By.XPATH, "//button[text()='Delete']").click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        box.find_element(By.CSS_SELECTOR, "button.danger").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Subscribers"))
        w.until(lambda dr: sql("SELECT count(*) FROM subscribers WHERE email = 'deal@example.org'") == "0")
        search(d, w, q="0%_")
        assert emails(d) == [], emails(d)
        snap(d, w, "deleted")

        step("add a subscriber from the screen, on a list; its page opens")
        d.find_element(By.CSS_SELECTOR, "details.add-sub summary").click()
        form = d.find_element(By.CSS_SELECTOR, "form[aria-label='New subscriber']")
        form.find_element(By.NAME, "email").send_keys("carol@example.net")
        form.find_element(By.NAME, "name").send_keys("Carol <i>New</i>")
        Select(form.find_element(By.NAME, "lists")).select_by_visible_text("news")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "carol@example.net"))
        w.until(lambda dr: rows_of(dr, "subscriptions") and rows_of(dr, "subscriptions")[0][:2] == ["news", "confirmed"])
        assert not d.find_elements(By.CSS_SELECTOR, "main i"), "the name's markup became an element"
        snap(d, w, "added", top=True)

        step("carol's Consent section: the subscription made on this screen, via admin, by the signed-in user")
        w.until(lambda dr: rows_of(dr, "consent"))
        row = rows_of(d, "consent")[0]
        assert row[1:5] == ["news", "none → confirmed", "admin", "user:admin@example.com"], row
        d.execute_script("document.getElementById('consent').scrollIntoView()")
        snap(d, w, "consent")
        resize(d, w, 390)
        d.execute_script("document.getElementById('consent').scrollIntoView()")
        snap(d, w, "consent-390", width=390)
        resize(d, w, 1280)

        step("erase bob after a confirmation that says what it does: gone, a salted hash kept")
        go(d, w, API, "subscribers", "Subscribers")
        search(d, w, q="jones")
        d.find_element(By.LINK_TEXT, "bob@example.org").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "bob@example.org"))
        w.until(EC.element_to_be_clickable((By.XPATH, "//button[text()='Erase']"))).click()
        box = w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role=alertdialog]")))
        w.until(lambda _: "salted hash" in box.text and "cannot be undone" in box.text)
        snap(d, w, "erase-confirm")
        box.find_element(By.CSS_SELECTOR, "button.danger").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Subscribers"))
        w.until(lambda dr: sql("SELECT count(*) FROM subscribers WHERE email = 'bob@example.org'") == "0")
        assert sql("SELECT reason FROM suppressions") == "blocklisted"
        snap(d, w, "erased")


if __name__ == "__main__":
    main()
