"""admin_dns - the DNS check on the admin's Settings screen in a real headless Chromium:
the good domain checked (every finding ok, eight of them), a broken one (the revoked
DKIM key and the unconfirmed PTR as errors, each with its fix), a bad address refused
beside its field. Screenshots at 1280 px and 390 px (no sideways scrolling).

usage: admin_dns.py API_URL SHOTS_DIR   (prints "ok N steps" at the end)
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import NARROW, capture, go, login, session, step, texts

API, SHOTS = sys.argv[1], sys.argv[2]


def run_check(d, w, domain, ip, selector=""):
    form = d.find_element(By.CSS_SELECTOR, "form[aria-label='DNS check']")
    for name, value in (("domain", domain), ("ip", ip), ("selector", selector)):
        box = form.find_element(By.CSS_SELECTOR, f"input[name={name}]")
        box.clear()
        box.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def levels(d):
    return [(li.get_attribute("data-check"), li.get_attribute("data-name"),
             li.find_element(By.CSS_SELECTOR, ".badge").text)
            for li in d.find_elements(By.CSS_SELECTOR, ".dns-report li.finding")]


with session(SHOTS, "dns-failure") as (d, w):
    step("the DNS check screen: the domains with DKIM keys offered")
    login(d, w, API, "admin@example.com", "admin-pass-1")
    go(d, w, API, "settings/dns", "Settings")
    w.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[aria-label='DNS check']")))
    offered = [o.get_attribute("value") for o in d.find_elements(By.CSS_SELECTOR, "#dns-domains option")]
    assert "example.test" in offered and "revoked.broken.test" in offered, offered

    step("the good domain: eight findings, every one ok")
    run_check(d, w, "example.test", "192.0.2.10")
    w.until(lambda dr: dr.find_elements(By.CSS_SELECTOR, ".dns-report h2")
            and "example.test" in dr.find_element(By.CSS_SELECTOR, ".dns-report h2").text)
    got = levels(d)
    assert len(got) == 8 and all(l == "ok" for _, _, l in got), got
    assert texts(d, ".dns-summary")[0].startswith("8 ok · 0 warnings · 0 errors"), texts(d, ".dns-summary")
    assert not d.find_elements(By.CSS_SELECTOR, ".dns-report .finding-fix")
    capture(d, w, SHOTS, "dns-good", whole=True)
    capture(d, w, SHOTS, "dns-good-narrow", width=NARROW[0], whole=True)

    step("a broken domain: the revoked key and the unconfirmed PTR are errors, each with its fix")
    run_check(d, w, "revoked.broken.test", "192.0.2.30", "s1")
    w.until(lambda dr: "revoked.broken.test" in dr.find_element(By.CSS_SELECTOR, ".dns-report h2").text)
    got = dict(((c, n), l) for c, n, l in levels(d))
    assert got[("dkim", "s1._domainkey.revoked.broken.test")] == "error", got
    assert got[("ptr", "192.0.2.30")] == "error", got
    assert got[("spf", "revoked.broken.test")] == "error", got   # 192.0.2.30 is not in its SPF
    fix = d.find_element(By.CSS_SELECTOR, "li.finding[data-check=ptr] .finding-fix code").text
    assert fix == "host.broken.test. IN A 192.0.2.30", fix
    msg = d.find_element(By.CSS_SELECTOR, "li.finding[data-check=dkim] .finding-msg").text
    assert "revoked" in msg, msg
    capture(d, w, SHOTS, "dns-broken", whole=True)
    capture(d, w, SHOTS, "dns-broken-narrow", width=NARROW[0], whole=True)

    step("a bad address: refused beside its field, in the server's words")
    run_check(d, w, "example.test", "nope")
    w.until(lambda dr: any(t for t in texts(dr, "form[aria-label='DNS check'] .field .error")))
    errs = [t for t in texts(d, "form[aria-label='DNS check'] .field .error") if t]
    assert errs == ['ip "nope" is not an IPv4 or IPv6 address'], errs
    assert not d.find_elements(By.CSS_SELECTOR, ".dns-report")
