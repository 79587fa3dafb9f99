"""admin_lib - what the web admin's browser tests share: a headless Chromium
(Debian's chromium and chromium-driver through python3-selenium), a login as
a person does it, screenshots, steps printed as they go, and the browser's
console checked for errors at the end. Every wait is for a state, with a
generous deadline, never for a fixed time.

    d, w = browser()            the driver and a WebDriverWait(d, WAIT)
    login(d, w, api, email, pw) log in through the form; waits for the navigation
    go(d, w, api, hash, h1)     open #/HASH and wait for the screen's heading H1
    step(name)                  print a numbered step
    shot(d, shots, name)        save SHOTS/NAME.png
    texts(d, css)               the text of each element matching CSS, read at one moment
    console_errors(d)           SEVERE console lines, not counting 4xx answers the test asked for
"""
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 60  # seconds: generous on a busy machine; every wait ends as soon as its state is reached
_steps = [0]


def step(name):
    _steps[0] += 1
    print(f"step {_steps[0]}: {name}", flush=True)


def steps():
    return _steps[0]


def shot(d, shots, name):
    d.save_screenshot(f"{shots}/{name}.png")


def browser(width=1280, height=900):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    # a screen redrawn while a wait reads it: read again
    return d, WebDriverWait(d, WAIT, ignored_exceptions=[StaleElementReferenceException])


def login(d, w, api, email, pw):
    d.get(api + "/admin/")
    w.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form input[name=email]")))
    d.find_element(By.CSS_SELECTOR, "input[name=email]").send_keys(email)
    d.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(pw, Keys.ENTER)
    w.until(EC.visibility_of_element_located((By.ID, "nav")))


def go(d, w, api, hash_, h1):
    d.get(f"{api}/admin/#/{hash_}")
    w.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), h1))


def texts(d, css):
    """the innerText of every element matching CSS, read at one moment (no stale elements)"""
    return d.execute_script("return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText)", css)


def console_errors(d):
    return [e["message"] for e in d.get_log("browser")
            if e["level"] == "SEVERE" and "the server responded with a status of 4" not in e["message"]]
