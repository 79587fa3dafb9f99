"""prefs_browser - the public pages in a browser (test_preferences.sh): open a
confirmation link and press Confirm; open the preference page from a sent
message's link, leave a list, join another, change the name, Save; screenshots
of both pages at 1280 and 390 px under SHOTS.

    prefs_browser.py API CONFIRM_URL PREFS_URL SHOTS
"""
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from admin_lib import NARROW, capture, session, sql, step

api, confirm_url, prefs_url, shots = sys.argv[1:5]

with session(shots, "prefs-failure") as (d, w):
    step("the confirmation page shows a Confirm button; pressing it confirms")
    d.get(confirm_url)
    w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Confirm your subscription"))
    capture(d, w, shots, "confirm-1280")
    capture(d, w, shots, "confirm-390", width=NARROW[0])
    d.find_element(By.ID, "confirm").click()
    w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Subscription confirmed"))
    capture(d, w, shots, "confirmed-390", width=NARROW[0])

    step("the preference page from the message's link: weekly ticked, news not")
    d.get(prefs_url)
    w.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Your subscriptions"))
    news = sql("SELECT id FROM lists WHERE name = 'news'")
    weekly = sql("SELECT id FROM lists WHERE name = 'weekly'")
    box_news = d.find_element(By.ID, f"list-{news}")
    box_weekly = d.find_element(By.ID, f"list-{weekly}")
    assert box_weekly.is_selected() and not box_news.is_selected()
    capture(d, w, shots, "prefs-1280", whole=True)
    capture(d, w, shots, "prefs-390", width=NARROW[0], whole=True)

    step("leave weekly, join news, change the name, Save")
    box_weekly.click()
    box_news.click()
    name = d.find_element(By.ID, "name")
    name.clear()
    name.send_keys("Ann Browser")
    d.find_element(By.ID, "save").click()
    w.until(EC.text_to_be_present_in_element((By.ID, "notice"), "Your preferences are saved."))
    assert d.find_element(By.ID, "name").get_attribute("value") == "Ann Browser"
    assert d.find_element(By.ID, f"list-{news}").is_selected()
    assert not d.find_element(By.ID, f"list-{weekly}").is_selected()
    assert "waiting for your confirmation" in d.find_element(By.TAG_NAME, "body").text
    capture(d, w, shots, "prefs-saved-1280", whole=True)
    capture(d, w, shots, "prefs-saved-390", width=NARROW[0], whole=True)
