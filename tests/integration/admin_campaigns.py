"""admin_campaigns - the Templates, Campaigns and campaign editor screens in a
real headless Chromium, as a person uses them: a template typed with a
mistake (its line and column shown, the line marked), fixed and saved; a
campaign written in Markdown whose preview follows the typing, with its text
part; the preview, a document of its own at /admin/preview/ID in a frame
with sandbox="", for a subscriber named <script>alert(1)</script> showing
the name as text, a <script> and an onerror image in an HTML body not run
(in the frame, and at its address opened alone), the body's own styles and
images shown; an uploaded image put in the body at the caret from the
editor's picker, as Markdown and as HTML; From warned for a
domain without a DKIM key; saved, a test message sent, sent; another
campaign scheduled in a time zone, paused, resumed, cancelled; every screen
390 px wide with no sideways scroll; the admin's own page refusing an
inline style and an image from elsewhere. Screenshots: SHOTS/campaigns-*.png.

usage: admin_campaigns.py API_URL SHOTS_DIR OTHER_CAMPAIGN_ID LOGO_URL   (prints "ok N steps")
LOGO_URL is the public address of the uploaded 120x80 logo.png.
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from admin_lib import (capture, console_errors, go, in_preview, login, new_campaign, preview_for, preview_has,
                       preview_text, session, set_value, shot, step, texts)

API, SHOTS, OTHER, LOGO = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
SANDBOXED = "sandboxed and the 'allow-scripts' permission is not set"


def snap(d, name):
    shot(d, SHOTS, f"campaigns-{name}")


def insert_image(d, w, body, at, alt, name, shot_name=None):
    """the caret put at AT in BODY, the picker opened, ALT typed (a screenshot SHOT_NAME), the image NAME chosen"""
    d.execute_script("arguments[0].focus(); arguments[0].setSelectionRange(arguments[1], arguments[1])", body, at)
    button = d.find_element(By.XPATH, "//div[@class='insert-image']/button")
    button.click()
    picker = d.find_element(By.CSS_SELECTOR, ".media-picker")
    w.until(lambda _: picker.is_displayed() and button.get_attribute("aria-expanded") == "true")
    picker.find_element(By.CSS_SELECTOR, "input").send_keys(alt, Keys.ENTER)   # Enter submits nothing
    pick = w.until(EC.element_to_be_clickable(
        (By.XPATH, f"//div[contains(@class, 'media-picker')]//button[span = '{name}']")))
    assert pick.find_element(By.TAG_NAME, "img").get_property("naturalWidth") > 0, "the picker's thumbnail"
    if shot_name:
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", picker)
        snap(d, shot_name)
    pick.click()
    w.until(lambda _: not picker.is_displayed() and button.get_attribute("aria-expanded") == "false")
    assert d.switch_to.active_element == body, "the caret did not go back to the body"


def logo_width(d, css):
    """the natural width of the image CSS in the preview frame, once it has come; None before"""
    return in_preview(d, lambda f: f.find_element(By.CSS_SELECTOR, css).get_property("naturalWidth"))


def status_is(want):
    return lambda dr: dr.find_element(By.ID, "campaign-status").text == want


def failed(d):
    print("the page when it failed:", d.find_element(By.TAG_NAME, "main").text[-1500:])
    print("preview error:", texts(d, ".preview-error"), "result:", texts(d, ".result, .form-error, .error"))


def main():
    # the preview frame is sandboxed: the browser may say so when a campaign's script is not run
    with session(SHOTS, "campaigns-failed", ignore=(SANDBOXED,), on_failure=failed) as (d, w):
        step("log in; the Templates screen, empty")
        login(d, w, API, "admin@example.com", "admin-pass-1")
        go(d, w, API, "templates", "Templates")
        assert "Campaigns" in texts(d, "#nav a") and "Templates" in texts(d, "#nav a"), texts(d, "#nav a")
        snap(d, "templates")

        step("a new template with a mistake: the error at its line and column, the line marked")
        d.find_element(By.LINK_TEXT, "New template").click()
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "New template"))
        d.find_element(By.NAME, "name").send_keys("Letterhead")
        preview_for(d, "ann@example.com")
        html = d.find_element(By.CSS_SELECTOR, "textarea[name=html]")
        set_value(d, html, '<div class="wrap">\n  <p>Hi {{ nmae }}</p>\n  [CONTENT]\n</div>\n')
        err = d.find_element(By.CSS_SELECTOR, ".field[data-field=html] .error")
        want = 'field "html": line 2, column 12: unknown variable "nmae"'
        w.until(lambda _: err.text == want)
        marked = d.execute_script("const ls = [...document.querySelectorAll('.field[data-field=html] .hl-line')];"
                                  "return ls.map((l, i) => l.classList.contains('hl-error') ? i + 1 : 0).filter(Boolean)")
        assert marked == [2], marked
        assert d.find_elements(By.CSS_SELECTOR, ".field[data-field=html] .hl-tag"), "no template tag coloured"
        d.find_element(By.CSS_SELECTOR, ".field[data-field=html] button.goto").click()
        assert d.switch_to.active_element == html, "the caret did not go to the error"
        pos = d.execute_script("return arguments[0].selectionStart", html)
        assert html.get_attribute("value")[pos:pos + 4] == "nmae", pos
        snap(d, "template-error")

        step("fixed by typing: the error goes, the preview shows the subscriber; saved")
        html.send_keys(Keys.DELETE, Keys.DELETE, Keys.DELETE, Keys.DELETE, "name")
        w.until(lambda _: err.text == "")
        w.until(preview_has("<p>Hi Ann Lee</p>"))
        src = d.find_element(By.CSS_SELECTOR, ".preview-frame").get_attribute("src")
        assert src.startswith(API + "/admin/preview/") and len(src) == len(API) + len("/admin/preview/") + 32, src
        assert "The content of a campaign goes here." in preview_text(d)
        d.find_element(By.CSS_SELECTOR, "form[aria-label=Template] button[type=submit]").click()
        w.until(lambda dr: dr.current_url.split("#/templates/")[-1].isdigit())
        w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Template: Letterhead"))
        w.until(preview_has("<p>Hi "))
        snap(d, "template-fixed")

        step("the Campaigns screen: the campaigns with their state")
        go(d, w, API, "campaigns", "Campaigns")
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main tbody tr")))
        names = texts(d, "main tbody td:first-child")
        assert names[:1] == ["Autumn"] and "March 2" in names, names
        snap(d, "campaigns")

        step("a new campaign in Markdown: the preview follows the typing; the text part")
        form = new_campaign(d, w, "Spring <b>sale</b>", "Spring for {{ name }}", "Shop", "news")
        assert Select(form.find_element(By.NAME, "from_domain")).first_selected_option.text == "example.com"
        form.find_element(By.CSS_SELECTOR, "input[name=lists]").click()
        Select(form.find_element(By.NAME, "template")).select_by_visible_text("Letterhead")
        preview_for(d, "ann@example.com")
        body = form.find_element(By.CSS_SELECTOR, "textarea[name=body]")
        body.clear()
        body.send_keys("# Spring\n\nHello *{{ name }}*, our **sale** starts.\n")
        w.until(preview_has("<p>Hello <em>Ann Lee</em>, our <strong>sale</strong> starts.</p>"))
        w.until(preview_has('<div class="wrap">'))
        body.send_keys("\nFresh flowers for [you]({{ unsubscribe_url }}).")
        w.until(lambda dr: "Fresh flowers for you." in preview_text(dr))
        assert d.find_element(By.CSS_SELECTOR, ".preview-subject").text == "Spring for Ann Lee"
        d.find_element(By.CSS_SELECTOR, ".preview-text-box summary").click()
        text = d.find_element(By.CSS_SELECTOR, ".preview-text").text
        assert "Hello Ann Lee, our sale starts." in text and "Fresh flowers for you" in text, text
        snap(d, "editor-preview")

        step("the preview for <script>alert(1)</script>: the name as text; a <script> in an HTML body does not run")
        preview_for(d, "xss@example.com")
        w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, ".preview-subject").text
                == "Spring for <script>alert(1)</script>")
        w.until(lambda dr: "Hello <script>alert(1)</script>, our sale starts." in preview_text(dr))
        form.find_element(By.CSS_SELECTOR, "input[name=format][value=html]").click()
        html = ("<style>p.big { font-size: 31px; }</style>"
                "<p>Hi {{ name }} from {{ attribs.city }}</p>"
                "<script>document.title = 'ran'; window.ran = 1;</script>"
                "<img class=\"broken\" src=\"x\" onerror=\"document.title = 'onerror ran'\">"
                "<p class=\"big\" style=\"color: rgb(255, 0, 0)\">end</p>\n")
        set_value(d, body, html)
        w.until(preview_has(">end</p>"))
        # an uploaded image from the editor's picker, at the end, as HTML; its alt text the image's name
        insert_image(d, w, body, len(html), "", "logo.png")
        assert body.get_attribute("value") == html + f'<img src="{LOGO}" alt="logo">', body.get_attribute("value")
        w.until(preview_has('alt="logo"'))
        w.until(lambda dr: logo_width(dr, "img[alt=logo]") == 120)   # shown once it has come: its own 120x80
        d.switch_to.frame(d.find_element(By.CSS_SELECTOR, ".preview-frame"))
        try:
            shown = d.find_element(By.TAG_NAME, "body").text
            assert "Hi <script>alert(1)</script> from <img src=x onerror=alert(2)>" in shown, shown
            assert len(d.find_elements(By.TAG_NAME, "script")) == 1, "the subscriber's name made an element"
            imgs = [i.get_attribute("class") or i.get_attribute("alt") for i in d.find_elements(By.TAG_NAME, "img")]
            assert imgs == ["broken", "logo"], f"the subscriber's attribute made an element: {imgs}"
            # the script's first statement, or the broken image's handler, would have given the frame's
            # document a <title>
            assert not d.find_elements(By.CSS_SELECTOR, "title"), "the body's script or onerror ran"
            assert d.find_element(By.TAG_NAME, "body").text.endswith("end")
            # the campaign's own styles show, as in a mail client: a <style> element and a style attribute
            end = d.find_element(By.CSS_SELECTOR, "p.big")
            assert end.value_of_css_property("color") in ("rgb(255, 0, 0)", "rgba(255, 0, 0, 1)"), \
                end.value_of_css_property("color")
            assert end.value_of_css_property("font-size") == "31px", end.value_of_css_property("font-size")
            logo = d.find_element(By.CSS_SELECTOR, "img[alt=logo]")
            assert (logo.size["width"], logo.size["height"]) == (120, 80), logo.size
        finally:
            d.switch_to.default_content()
        assert d.title == "Campaigns · postino", d.title
        frame = d.find_element(By.CSS_SELECTOR, ".preview-frame")
        assert frame.get_attribute("sandbox") == ""
        assert not d.execute_script("return arguments[0].hasAttribute('srcdoc')", frame), "the frame has a srcdoc"
        d.execute_script("arguments[0].scrollIntoView()", frame)
        snap(d, "editor-xss")

        step("the preview's address opened alone, outside the sandboxed frame: its own policy runs nothing either")
        editor_tab, src = d.current_window_handle, frame.get_attribute("src")
        d.switch_to.new_window("tab")
        try:
            d.get(src)
            w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.big")))
            w.until(lambda dr: dr.find_element(By.CSS_SELECTOR, "img[alt=logo]").get_property("naturalWidth") == 120)
            assert not d.find_elements(By.CSS_SELECTOR, "title"), "the body's script or onerror ran"
            assert d.find_element(By.CSS_SELECTOR, "p.big").value_of_css_property("font-size") == "31px"
        finally:
            d.close()
            d.switch_to.window(editor_tab)

        step("back to Markdown; From on a domain without a DKIM key is warned of; saved as a draft")
        form.find_element(By.CSS_SELECTOR, "input[name=format][value=markdown]").click()
        md = "# Spring\n\nHello *{{ name }}*, our **sale** starts.\n\n[Unsubscribe]({{ unsubscribe_url }})\n"
        set_value(d, body, md)
        preview_for(d, "ann@example.com")
        w.until(preview_has("<p>Hello <em>Ann Lee</em>"))

        step("an uploaded image put in the Markdown body at the caret, its alt text typed; shown in the preview")
        at = md.index("starts.\n") + len("starts.\n")
        insert_image(d, w, body, at, "Our logo [1]", "logo.png", "editor-image-picker")
        want = md[:at] + f"![Our logo \\[1\\]]({LOGO})" + md[at:]
        assert body.get_attribute("value") == want, body.get_attribute("value")
        w.until(preview_has('alt="Our logo [1]"'))
        w.until(lambda dr: logo_width(dr, "img") == 120)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                         d.find_element(By.CSS_SELECTOR, ".preview-frame"))
        snap(d, "editor-image")
        step("the audience: a filter refused at its line and column beside it, then counted; a segment; everyone")
        counted = form.find_element(By.CSS_SELECTOR, ".audience-count")
        w.until(lambda _: counted.text == "2 subscribers would get it now.")
        form.find_element(By.CSS_SELECTOR, "input[name=audience][value=filter]").click()
        filt = form.find_element(By.CSS_SELECTOR, "textarea[name=filter]")
        assert filt.is_displayed() and not form.find_element(By.NAME, "segment").is_displayed()
        filt.send_keys('attribs.city =')
        ferr = form.find_element(By.CSS_SELECTOR, ".field[data-field=filter] .error")
        w.until(lambda _: ferr.text == 'the filter: line 1, column 15: expected a value (a "string", a number, '
                                       'a date such as 2026-01-31, true or false), found the end')
        snap(d, "editor-audience-error")
        filt.send_keys(' "Rome"')
        w.until(lambda _: counted.text == "1 subscriber would get it now." and ferr.text == "")
        form.find_element(By.CSS_SELECTOR, "input[name=audience][value=segment]").click()
        w.until(lambda _: form.find_element(By.CSS_SELECTOR, ".segment-filter").text == 'attribs.city = "Rome"')
        w.until(lambda _: counted.text == "1 subscriber would get it now.")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", counted)
        snap(d, "editor-audience")
        form.find_element(By.CSS_SELECTOR, "input[name=audience][value=all]").click()
        w.until(lambda _: counted.text == "2 subscribers would get it now.")
        Select(form.find_element(By.NAME, "from_domain")).select_by_visible_text("another domain…")
        form.find_element(By.NAME, "from_other").send_keys("nokey.example")
        warn = form.find_element(By.CSS_SELECTOR, ".field[data-field=from] .warn")
        w.until(lambda _: warn.text == "no DKIM key for nokey.example: messages will go unsigned")
        Select(form.find_element(By.NAME, "from_domain")).select_by_visible_text("example.com")
        w.until(lambda _: warn.text == "")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        w.until(lambda dr: dr.current_url.endswith("/edit"))
        w.until(status_is("draft"))
        assert d.find_element(By.CSS_SELECTOR, "main h1").text == "Campaign: Spring <b>sale</b>"
        snap(d, "editor")

        step("a test message to an address")
        test = d.find_element(By.CSS_SELECTOR, "form[aria-label='Test message']")
        test.find_element(By.NAME, "to").send_keys("tester@example.org", Keys.ENTER)
        res = d.find_element(By.CSS_SELECTOR, ".lifecycle .result")
        w.until(lambda _: res.text.startswith("Test message to tester@example.org taken by relay local (250"))
        snap(d, "editor-test")

        step("send now: the campaign runs")
        d.find_element(By.XPATH, "//button[text()='Send now']").click()
        w.until(lambda dr: dr.find_element(By.ID, "campaign-status").text in ("running", "finished"))

        step("another campaign narrowed to a saved segment, saved; scheduled at 09:30 in New York, shown in that zone;"
             " paused, resumed, cancelled")
        go(d, w, API, f"campaigns/{OTHER}/edit", "Campaign: Autumn")
        other = d.find_element(By.CSS_SELECTOR, "form[aria-label=Campaign]")
        other.find_element(By.CSS_SELECTOR, "input[name=audience][value=segment]").click()
        w.until(lambda _: other.find_element(By.CSS_SELECTOR, ".audience-count").text == "1 subscriber would get it now.")
        other.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        w.until(EC.text_to_be_present_in_element((By.ID, "toast"), 'Campaign "Autumn" saved.'))
        sched = d.find_element(By.CSS_SELECTOR, "form[aria-label=Schedule]")
        set_value(d, sched.find_element(By.NAME, "at"), "2031-03-05T09:30")
        Select(sched.find_element(By.NAME, "zone")).select_by_value("America/New_York")
        sched.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        w.until(status_is("scheduled"))
        w.until(lambda dr: "scheduled for 5 Mar 2031, 09:30 (America/New_York)" in dr.find_element(By.CSS_SELECTOR, "main").text)
        snap(d, "scheduled")
        for button, state in (("Pause", "paused"), ("Resume", "scheduled"), ("Cancel campaign", "cancelled")):
            w.until(EC.element_to_be_clickable((By.XPATH, f"//button[text()='{button}']"))).click()
            w.until(status_is(state))
        go(d, w, API, "campaigns", "Campaigns")
        w.until(lambda dr: "cancelled" in texts(dr, "main tbody td[data-label=Status]"))

        step("390 px wide: the list as cards, the editor and the templates in one column, no sideways scroll")
        go(d, w, API, "campaigns", "Campaigns")
        w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "main tbody tr")))
        capture(d, w, SHOTS, "campaigns-campaigns-390", 390)
        go(d, w, API, "campaigns/new", "New campaign")
        w.until(preview_has("Hello"))
        capture(d, w, SHOTS, "campaigns-editor-390", 390)
        d.find_element(By.XPATH, "//div[@class='insert-image']/button").click()
        w.until(EC.element_to_be_clickable((By.XPATH, "//div[contains(@class, 'media-picker')]//button[span = 'logo.png']")))
        capture(d, w, SHOTS, "campaigns-editor-image-390", 390, scroll_to=".insert-image")
        go(d, w, API, "templates", "Templates")
        capture(d, w, SHOTS, "campaigns-templates-390", 390)

        # nothing was refused by the admin's own strict policy (an inline style would have been)
        errs = console_errors(d, (SANDBOXED,))
        assert not errs, errs

        step("the admin's page refuses what its policy does not allow: a style attribute, an image from elsewhere")
        probe = d.execute_script("""
            const p = document.createElement('p');
            p.setAttribute('style', 'color: rgb(1, 2, 3)');
            document.body.append(p);
            const color = getComputedStyle(p).color;
            p.remove();
            return color""")
        assert probe != "rgb(1, 2, 3)", "a style attribute applied on the admin's page"
        d.execute_script("const i = document.createElement('img'); i.src = arguments[0]; document.body.append(i)",
                         LOGO.replace("127.0.0.1", "localhost"))
        w.until(lambda dr: any("Content Security Policy" in e and "img-src" in e for e in console_errors(dr)))

if __name__ == "__main__":
    main()
