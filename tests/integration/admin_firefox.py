"""admin_firefox - drive the web admin in a real headless Firefox (Debian's
firefox-esr, spoken to over WebDriver BiDi by admin_bidi.py), as a person
would, at 1280 px and at 390 px wide: log in by typing into the form and
pressing Enter, open every screen of the navigation and wait for its
heading and its content, make a list through its form, move through the
navigation with the keyboard, log out. Throughout: no console error or
JavaScript exception, no prompt opened (a subscriber named
<script>alert(1)</script> is shown as those characters), no sideways
scrolling. A screenshot of each screen goes to SHOTS/firefox-WIDTH-NAME.png.
Waits for states, with a generous deadline, never for a fixed time.

usage: admin_firefox.py API_URL SHOTS_DIR BIDI_PORT FIREFOX_LOG   (prints "ok N steps" at the end)
"""
import base64
import json
import sys
import time

from admin_bidi import BidiError, Firefox

API, SHOTS, PORT, FFLOG = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
WAIT = 60  # seconds: generous on a busy machine; every wait ends as soon as its state is reached
TAB, ENTER, SHIFT = "\ue004", "\ue007", "\ue008"
XSS = "<script>alert(1)</script>"


def has_cell(text):
    return f"[...document.querySelectorAll('main td')].some((e) => e.textContent === {json.dumps(text)})"


# the navigation's screens in order: its link, the hash it opens, the heading, a JS test of the content drawn
SCREENS = [
    ("Dashboard", "#/", "Dashboard",
     "document.querySelector('#dash-totals').children.length > 0 && document.querySelector('#dash-charts svg') !== null"),
    ("Lists", "#/lists", "Lists", has_cell("news")),
    ("Subscribers", "#/subscribers", "Subscribers", has_cell("user1@example.org") + " && " + has_cell(XSS)),
    ("Import", "#/import", "Import subscribers", "document.querySelector('#imp-file') !== null"),
    ("Campaigns", "#/campaigns", "Campaigns", has_cell("Spring <b>sale</b>")),
    ("Templates", "#/templates", "Templates", has_cell("Firefox layout")),
    ("Reports", "#/report", "Reports", has_cell("Spring <b>sale</b>")),
    ("Bounces", "#/bounces", "Bounces", has_cell("user3@example.org")),
    ("Providers", "#/providers", "Mailbox providers", "document.querySelector('main').textContent.includes('gmail.com')"),
    ("Images", "#/media", "Images", "document.querySelector('main .media-grid img') !== null"),
    ("Settings", "#/settings", "Settings", "document.querySelector('main').textContent.includes('mx-local')"),
    ("Webhooks", "#/webhooks", "Webhooks", "document.querySelector('main').textContent.includes('No webhook yet.')"),
    ("Account", "#/account", "Your account", "document.querySelector('main').textContent.includes('Logged in as admin@example.com')"),
]
# a screen inside a list: after the list's screen, its link with this text is clicked; then the heading
# (its start) and a JS test of the content drawn; the screenshot's name
# the preview frame loads its document from /admin/preview/ID (sandboxed: its content is not this page's to
# read; the Chromium tests read it through the driver)
PREVIEW_LOADED = "/\\/admin\\/preview\\/[0-9a-f]{32}$/.test(document.querySelector('main .preview-frame')?.src || '')"
INNER = {
    "Subscribers": ("xss@example.org", "xss@example.org",
                    f"document.querySelector('main input[name=name]').value === {json.dumps(XSS)}", "subscriber"),
    "Campaigns": ("Spring <b>sale</b>", "Campaign: Spring <b>sale</b>",
                  PREVIEW_LOADED, "campaign"),
    "Templates": ("Firefox layout", "Template: Firefox layout",
                  PREVIEW_LOADED, "template"),
    "Reports": ("Spring <b>sale</b>", "Report: Spring <b>sale</b>",
                "document.querySelector('main h2') !== null && document.querySelector('main [aria-busy=true]') === null", "report"),
    "Bounces": (None, "Bounce ", "document.querySelector('main dl.facts').textContent.includes('user3@example.org')", "bounce"),
}
_steps = [0]


def step(name):
    _steps[0] += 1
    print(f"step {_steps[0]}: {name}", flush=True)


class Page:
    """the one tab of FF: scripts, waits, pointer and keyboard, screenshots"""

    def __init__(self, ff):
        self.ff = ff
        self.ctx = ff.command("browsingContext.getTree", {"maxDepth": 0})["contexts"][0]["context"]
        self.width = None

    def js(self, expr):
        """the value of the JS expression EXPR (awaited), through JSON; raises on a JS exception"""
        r = self.ff.command("script.evaluate", {
            "expression": f"(async () => JSON.stringify(await ({expr})))()",
            "target": {"context": self.ctx}, "awaitPromise": True, "resultOwnership": "none"})
        if r["type"] == "exception":
            raise AssertionError(f"{expr}: {r['exceptionDetails']['text']}")
        v = r["result"]
        return json.loads(v["value"]) if v["type"] == "string" else None

    def wait(self, expr, what):
        """wait until EXPR is true: a screen drawn again or a page loading while it is read is read again"""
        end = time.time() + WAIT
        last = None
        while time.time() < end:
            try:
                if self.js(expr):
                    return
            except (AssertionError, BidiError) as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(f"timed out after {WAIT}s waiting for {what} (last error: {last})")

    def go(self, url):
        self.ff.command("browsingContext.navigate", {"context": self.ctx, "url": url, "wait": "complete"})

    def viewport(self, width, height):
        self.ff.command("browsingContext.setViewport", {"context": self.ctx, "viewport": {"width": width, "height": height}})
        self.wait(f"window.innerWidth === {width}", f"the page to be {width} px wide")
        self.width = width

    def click(self, css):
        """a mouse click at the middle of the element CSS, scrolled into view; it must be what the point hits"""
        self.click_found(f"document.querySelector({json.dumps(css)})", css)

    def click_link(self, text):
        """a mouse click on the link of main whose text is TEXT (its first link when TEXT is None)"""
        find = "document.querySelector('main tbody a')" if text is None else \
            f"[...document.querySelectorAll('main a')].find((a) => a.textContent === {json.dumps(text)})"
        self.click_found(find, f"the link {text}")

    def click_found(self, find, what):
        """a mouse click on the element the JS expression FIND gives (WHAT names it in errors)"""
        x, y = self.js(f"""(() => {{
            const e = {find};
            if (!e) throw new Error("no element: " + {json.dumps(what)});
            e.scrollIntoView({{ block: "center" }});
            const r = e.getBoundingClientRect();
            const x = Math.round(r.x + r.width / 2), y = Math.round(r.y + r.height / 2);
            const hit = document.elementFromPoint(x, y);
            if (!hit || !(hit === e || e.contains(hit))) throw new Error({json.dumps(what)} + " is covered at its middle");
            return [x, y];
        }})()""")
        self.ff.command("input.performActions", {"context": self.ctx, "actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "x": x, "y": y}, {"type": "pointerDown", "button": 0},
                        {"type": "pointerUp", "button": 0}]}]})

    def keys(self, text, shift=False):
        """type TEXT (characters, or WebDriver key codes such as TAB and ENTER), SHIFT held if asked"""
        acts = [{"type": "keyDown", "value": SHIFT}] if shift else []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        if shift:
            acts.append({"type": "keyUp", "value": SHIFT})
        self.ff.command("input.performActions", {"context": self.ctx, "actions": [{"type": "key", "id": "keyboard", "actions": acts}]})

    def shot(self, name):
        png = self.ff.command("browsingContext.captureScreenshot", {"context": self.ctx, "origin": "document"})["data"]
        with open(f"{SHOTS}/firefox-{self.width}-{name}.png", "wb") as f:
            f.write(base64.b64decode(png))

    def no_sideways_scroll(self, where):
        sw, iw = self.js("[document.documentElement.scrollWidth, window.innerWidth]")
        assert sw <= iw, f"{where} at {self.width} px scrolls sideways: scrollWidth {sw} > innerWidth {iw}"
        # a check box beside a label on two lines was once squeezed to a few pixels
        small = self.js("[...document.querySelectorAll('main input[type=checkbox], main input[type=radio]')]"
                        ".filter((e) => e.offsetParent !== null && e.getBoundingClientRect().width < 11).map((e) => e.name)")
        assert not small, f"{where} at {self.width} px: check boxes squeezed: {small}"


def problems(ff, since=0):
    """console errors, JS exceptions and prompts reported by Firefox (from the event numbered SINCE on)"""
    out = [f"{e['type']} {e['level']}: {e['text']}" for e in ff.events("log.entryAdded") if e["level"] == "error"]
    out += [f"prompt {p['type']} opened: {p.get('message')}" for p in ff.events("browsingContext.userPromptOpened")]
    return out[since:]


def login(p):
    p.go(API + "/admin/")
    p.wait("document.activeElement === document.querySelector('form input[name=email]')", "the login form, its email field focused")
    p.shot("login")
    p.click("form input[name=email]")
    p.keys("admin@example.com" + TAB)
    p.wait("document.activeElement.name === 'password'", "Tab to move to the password field")
    p.keys("admin-pass-1" + ENTER)
    p.wait("document.querySelector('main h1')?.textContent === 'Dashboard' && !document.getElementById('nav').hidden",
           "the dashboard after the login")
    who = p.js("document.getElementById('who').textContent")
    assert "admin@example.com" in who, who


def every_screen(p, ff):
    titles = p.js("[...document.querySelectorAll('#nav a')].map((a) => a.textContent)")
    assert titles == [s[0] for s in SCREENS], f"the navigation is {titles}"
    for title, hash_, h1, content in SCREENS:
        step(f"{p.width} px: {title}")
        seen = len(problems(ff))
        p.click(f"#nav a[href='{hash_}']")
        p.wait(f"location.hash === {json.dumps(hash_)} || ({json.dumps(hash_)} === '#/' && location.hash === '')",
               f"the address of {title}")
        p.wait(f"document.querySelector('main h1')?.textContent === {json.dumps(h1)} && ({content})",
               f"{title}'s heading '{h1}' and its content")
        current = p.js("document.querySelector('#nav a[aria-current=page]')?.textContent")
        assert current == title, f"the navigation marks {current} on {title}"
        p.no_sideways_scroll(title)
        if title == "Subscribers":
            assert p.js("document.querySelectorAll('main script, main td script').length") == 0, "the name became a script element"
        p.shot(title.lower())
        if title in INNER:
            link, h1_start, inner, name = INNER[title]
            p.click_link(link)
            p.wait(f"document.querySelector('main h1')?.textContent.startsWith({json.dumps(h1_start)}) && ({inner})",
                   f"the {name} opened from {title}: its heading '{h1_start}' and its content")
            p.no_sideways_scroll(f"the {name}")
            p.shot(name)
        new = problems(ff, seen)
        assert not new, f"{title} at {p.width} px: {new}"


def create_list(p, name):
    p.click("#nav a[href='#/lists']")
    p.wait("document.querySelector('main h1')?.textContent === 'Lists' && document.querySelector(\"form[aria-label='New list']\")",
           "the lists screen and its form")
    p.click("form[aria-label='New list'] input[name=name]")
    p.keys(name + ENTER)
    p.wait(has_cell(name), f"the new list {name} in the table")
    assert p.js("document.querySelectorAll('main tbody i').length") == 0, "the list's markup became an element"
    p.no_sideways_scroll("Lists with the new list")
    p.shot("lists-created")


def keyboard(p):
    """from the screen (focused after each navigation), Shift+Tab goes back through Log out and the links"""
    p.go(API + "/admin/#/lists")
    p.wait("document.querySelector('main h1')?.textContent === 'Lists' && document.activeElement.id === 'main'",
           "the lists screen with the focus on it")
    seen = []
    for _ in range(len(SCREENS) + 3):
        p.keys(TAB, shift=True)
        seen.append(p.js("document.activeElement.textContent"))
        if seen[-1] == "Reports":
            break
    assert seen[0] == "Log out", f"Shift+Tab from the screen reached {seen}"
    assert seen[-1] == "Reports", f"Shift+Tab never reached Reports: {seen}"
    p.keys(ENTER)
    p.wait("document.querySelector('main h1')?.textContent === 'Reports'", "Enter on the Reports link to open it")


def logout(p):
    p.click("#who button")
    p.wait("document.querySelector('form input[name=email]') && document.getElementById('nav').hidden"
           " && document.querySelector('.login .form-error').textContent === 'You have logged out.'",
           "the login form after logging out")
    p.go(API + "/admin/#/lists")
    p.ff.command("browsingContext.reload", {"context": p.ctx, "wait": "complete"})   # loaded anew: the cookie is asked
    p.wait("document.querySelector('form input[name=email]') !== null", "the login form for the old session")
    assert p.js("document.querySelectorAll('main table').length") == 0, "the lists show after logout"
    p.shot("logged-out")


def main():
    ff = Firefox(PORT, FFLOG)
    p = None
    try:
        ff.command("session.subscribe", {"events": ["log.entryAdded", "browsingContext.userPromptOpened"]})
        p = Page(ff)
        p.viewport(1280, 900)

        step("Firefox reports a console error and a prompt to this test (so their absence means something)")
        p.go(API + "/admin/")
        p.js("(console.error('probe'), setTimeout(() => alert('probe'), 0), 1)")
        end = time.time() + WAIT
        while len(problems(ff)) < 2 and time.time() < end:
            ff.pump(0.2)
        got = problems(ff)
        assert got == ["console error: probe", "prompt alert opened: probe"], got
        ff.command("browsingContext.handleUserPrompt", {"context": p.ctx, "accept": True})
        ff.forget()

        for width, height in ((1280, 900), (390, 844)):
            p.viewport(width, height)
            step(f"{width} px: log in by typing into the form and pressing Enter")
            login(p)
            every_screen(p, ff)
            step(f"{width} px: a list made through the form")
            create_list(p, f"Firefox <i>{width}</i>")
            step(f"{width} px: the keyboard reaches the navigation and opens a screen")
            keyboard(p)
            step(f"{width} px: log out")
            logout(p)
            ff.pump(0.5)   # and what came after the last command
            assert not problems(ff), f"at {width} px: {problems(ff)}"
    except Exception:
        if p is not None:
            try:
                p.shot("failure")
            except (BidiError, OSError):
                pass
        raise
    finally:
        ff.close()
    print(f"ok {_steps[0]} steps")


if __name__ == "__main__":
    main()
