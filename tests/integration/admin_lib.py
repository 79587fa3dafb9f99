"""admin_lib - what the web admin's browser tests share: a headless Chromium
(Debian's chromium and chromium-driver through python3-selenium), a login as
a person does it, screenshots at 1280 and 390 px, steps printed as they go,
and the browser's console checked for errors at the end. Every wait is for a
state, with a generous deadline, never for a fixed time.

    with session(shots, "x-failure") as (d, w):  the driver and a WebDriverWait(d, WAIT); at the end
                                 the console is checked and "ok N steps" printed; on a failure
                                 SHOTS/x-failure.png; the browser quits either way
    login(d, w, api, email, pw)  log in through the form; waits for the navigation
    logout(d, w)                 press Log out; waits for the login form
    go(d, w, api, hash, h1)      open #/HASH and wait for the screen's heading H1
    step(name)                   print a numbered step
    shot(d, shots, name)         save SHOTS/NAME.png as the window shows it
    capture(d, w, shots, name, width=1280, whole=False, scroll_to=None)
                                 SHOTS/NAME.png at WIDTH px, checked for sideways scrolling
    resize(d, w, width)          the window WIDTH px wide, waited for
    no_sideways_scroll(d, what)  the page is no wider than the window
    tab_reaches(d, labels)       Tab from the page until each label has had the focus
    texts(d, css)                the text of each element matching CSS, read at one moment
    until_shows(w, read, want)   wait until READ(driver) gives WANT (a screen redrawn meanwhile is read again)
    set_value(d, elem, value)    a long value put in at once, announced as typed
    preview_has(text), preview_text(d), preview_for(d, email)   the editors' preview
    in_preview(d, read)          READ(driver) inside the preview frame's document
    new_campaign(d, w, ...)      New campaign pressed, its name, subject and From typed in
    import_counts(d)             the import summary's counts
    sql(q)                       one value from the test's private database ($WORK/var/pg/run)
    console_errors(d, ignore)    SEVERE console lines, not counting 4xx answers the test asked for
"""
import contextlib
import glob
import os
import subprocess

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException, NoSuchFrameException, StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 60  # seconds: generous on a busy machine; every wait ends as soon as its state is reached
WIDE, NARROW = (1280, 900), (390, 844)
PSQL = [sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1], "-X", "-q", "-A", "-t",
        "-h", os.environ.get("WORK", ".") + "/var/pg/run", "-U", "postino", "-d", "postino"]
_steps = [0]


def step(name):
    _steps[0] += 1
    print(f"step {_steps[0]}: {name}", flush=True)


def steps():
    return _steps[0]


def shot(d, shots, name):
    d.save_screenshot(f"{shots}/{name}.png")


def browser(width=WIDE[0], height=WIDE[1], downloads=None):
    """a headless Chromium WIDTH x HEIGHT px that saves what it downloads in the directory DOWNLOADS;
    the driver and a WebDriverWait(driver, WAIT)"""
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads:
        o.add_experimental_option("prefs", {"download.default_directory": downloads,
                                            "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_script_timeout(WAIT)
    # a screen redrawn while a wait reads it: read again
    return d, WebDriverWait(d, WAIT, ignored_exceptions=[StaleElementReferenceException])


@contextlib.contextmanager
def session(shots, failure, ignore=(), on_failure=None, downloads=None):
    """a browser for one script: yields (driver, wait); when the body ends, no error may be in the
    console (but lines holding one of IGNORE) and "ok N steps" is printed; when it fails, the
    page goes to SHOTS/FAILURE.png and ON_FAILURE(driver) may print what helps; it quits either way.
    What it downloads goes to the directory DOWNLOADS."""
    d, w = browser(downloads=downloads)
    try:
        yield d, w
        errors = console_errors(d, ignore)
        assert not errors, f"errors in the browser console: {errors}"
    except Exception:
        shot(d, shots, failure)
        print("the browser's console:", console_errors(d, ignore))
        if on_failure:
            on_failure(d)
        raise
    finally:
        d.quit()
    print(f"ok {steps()} steps")


def login(d, w, api, email, pw):
    d.get(api + "/admin/")
    w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
    d.find_element(By.CSS_SELECTOR, "input[name=email]").send_keys(email)
    d.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(pw, Keys.ENTER)
    w.until(EC.visibility_of_element_located((By.ID, "nav")))


def logout(d, w):
    d.find_element(By.XPATH, "//button[text()='Log out']").click()
    w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))


def go(d, w, api, hash_, h1):
    d.get(f"{api}/admin/#/{hash_}")
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), h1))


def resize(d, w, width, height=None):
    """the window WIDTH px wide (HEIGHT, or the usual height for that width), once the page has followed"""
    height = height or (NARROW[1] if width <= NARROW[0] else WIDE[1])
    d.set_window_size(width, height)
    w.until(lambda dr: dr.execute_script("return window.innerWidth") <= width)


def no_sideways_scroll(d, what):
    sw, iw = d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert sw <= iw, f"{what}: the page scrolls sideways: {sw} px wide in a {iw} px window"


def capture(d, w, shots, name, width=WIDE[0], whole=False, scroll_to=None):
    """SHOTS/NAME.png at WIDTH px: all of the page's height with WHOLE, else the window scrolled to
    the element SCROLL_TO (a CSS selector) if given; the page must not scroll sideways at that
    width. The window is 1280 x 900 again afterwards."""
    resize(d, w, width)
    no_sideways_scroll(d, f"{name} at {width} px")
    if whole:
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(width, min(height + 150, 6000))
        no_sideways_scroll(d, f"{name} at {width} px")
    elif scroll_to:
        d.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", scroll_to)
    shot(d, shots, name)
    resize(d, w, WIDE[0], WIDE[1])
    w.until(lambda dr: dr.execute_script("return window.innerWidth") > WIDE[0] - 100)


def tab_reaches(d, labels, start="body", tries=40):
    """press Tab from the element START (a CSS selector; the page's start by default) until each of
    LABELS (button or link texts) has had the focus, TRIES times at the most; the texts that had it"""
    d.find_element(By.CSS_SELECTOR, start).click()
    seen = set()
    for _ in range(tries):
        d.switch_to.active_element.send_keys(Keys.TAB)
        seen.add(d.switch_to.active_element.text)
        if set(labels) <= seen:
            break
    assert set(labels) <= seen, f"Tab did not reach {set(labels) - seen}; it reached {seen}"
    return seen


def texts(d, css):
    """the innerText of every element matching CSS, read at one moment (no stale elements)"""
    return d.execute_script("return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText)", css)


def until_shows(w, read, want):
    """wait until READ(driver), the screen read at one moment, gives WANT: a screen that polls and
    draws itself again is read again; on a timeout, an AssertionError saying what it showed last"""
    seen = [None]

    def shows(dr):
        seen[0] = read(dr)
        return seen[0] == want
    try:
        w.until(shows)
    except TimeoutException:
        raise AssertionError(f"the screen shows {seen[0]!r}, expected {want!r}") from None


def set_value(d, elem, value):
    """a value put in at once (a long text), announced as typed"""
    d.execute_script("arguments[0].value = arguments[1];"
                     "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", elem, value)


def in_preview(d, read):
    """READ(driver) inside the editor's preview frame (its document is /admin/preview/ID); None while
    the frame is between two documents"""
    try:
        d.switch_to.frame(d.find_element(By.CSS_SELECTOR, ".preview-frame"))
        return read(d)
    except (NoSuchFrameException, NoSuchElementException, StaleElementReferenceException):
        return None
    finally:
        d.switch_to.default_content()


def preview_has(text):
    """a wait's condition: the editor's preview frame holds TEXT in its document's body (as serialised)"""
    return lambda dr: text in (in_preview(dr, lambda f: f.find_element(By.TAG_NAME, "body").get_attribute("innerHTML"))
                               or "")


def preview_text(d):
    """the text the editor's preview frame shows"""
    return in_preview(d, lambda f: f.find_element(By.TAG_NAME, "body").text) or ""


def preview_for(d, email):
    """the editor's preview made for the subscriber EMAIL (typed in place of whoever it was for)"""
    who = d.find_element(By.CSS_SELECTOR, ".preview-card input[name=subscriber]")
    who.clear()
    who.send_keys(email)


def new_campaign(d, w, name, subject, from_name, from_local):
    """on the Campaigns screen: New campaign pressed, NAME, SUBJECT and the From's name and the part
    before its @ typed in (the domain as offered); the form"""
    d.find_element(By.LINK_TEXT, "New campaign").click()
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "New campaign"))
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label=Campaign]")
    for field, value in (("name", name), ("subject", subject), ("from_name", from_name), ("from_local", from_local)):
        form.find_element(By.NAME, field).send_keys(value)
    return form


def import_counts(d):
    """the counts of the import's summary on the Import screen, {name: text}"""
    return {e.get_attribute("data-count"): e.text for e in d.find_elements(By.CSS_SELECTOR, ".summary dd[data-count]")}


def sql(q):
    """one value (or rows, one a line) from the test's private database"""
    return subprocess.run(PSQL + ["-c", q], capture_output=True, text=True, check=True).stdout.strip()


def console_errors(d, ignore=()):
    return [e["message"] for e in d.get_log("browser")
            if e["level"] == "SEVERE" and "the server responded with a status of 4" not in e["message"]
            and not any(i in e["message"] for i in ignore)]
