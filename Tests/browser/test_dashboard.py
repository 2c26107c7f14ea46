#!/usr/bin/env python3
"""The web dashboard in a real browser (issue 13, item 6).

Headless Chromium (Debian's `chromium` and `chromium-driver`), driven by selenium, loads the page a
running `plazo demo` serves, and checks that:
  - the page's headers are strict (CSP without inline script, nosniff) and it reflects nothing;
  - every chart shows the API's values: each drawn point's data-* attributes equal the JSON answer
    for the same query, nothing is drawn past follow-up, unreliable points are marked;
  - the filters (cohort, state, offence, release), the state comparison, the trend across releases
    and the language switch work, from the mouse and from the keyboard;
  - a token typed into the page opens a non-public release and is never in the address, storage
    or cookies;
  - the console has no errors (a SEVERE browser log entry fails the run);
  - screenshots (Spanish and English) are not blank;
  - axe-core reports no serious or critical accessibility violation;
  - malicious or over-long query strings, hashes and API parameters inject nothing and never
    reach the page unescaped.

Run by scripts/browser-test.sh, which starts the demo and passes its address and tokens in
PLAZO_URL, PLAZO_OVERSIGHT_TOKEN, PLAZO_STEWARD_TOKEN and PLAZO_DEMO_DIR (PLAZO_BROWSER_TESTS=name,name runs only those). Prints one line per test and
ends with "browser: N passed, M failed"; exits 1 on any failure.
"""
import base64
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from PIL import Image, ImageStat
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["PLAZO_URL"].rstrip("/")
OVERSIGHT = os.environ["PLAZO_OVERSIGHT_TOKEN"]
STEWARD = os.environ["PLAZO_STEWARD_TOKEN"]
DEMO_DIR = os.environ["PLAZO_DEMO_DIR"]
SHOTS = os.environ.get("PLAZO_SCREENSHOTS", "/tmp")
BOARDS = ["time-to-decision", "time-to-charge", "funnel", "dispositions", "backlog", "victim-updates"]
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "'-alert(1)-'",
]


# ---- HTTP --------------------------------------------------------------------------------------


def http(path, params=None, token=None, method="GET", body=None, headers=None):
    """(status, headers, body bytes) of a request to the demo."""
    url = BASE + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    request = urllib.request.Request(url, method=method, data=body)
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def api_json(path, params, token=None):
    status, _, body = http(path, params, token)
    assert status == 200, f"{path} {params}: {status} {body[:300]!r}"
    return json.loads(body)


def make_second_release():
    """A second, non-public release through the steward API: the trend has two points and the
    token field has something to open."""
    with open(os.path.join(DEMO_DIR, "quarterly-release.json")) as f:
        spec = json.load(f)
    spec["title"] = "Segunda publicación (no pública)"
    for table in spec["tables"]:
        table["rho"] = "1/400"
    status, _, body = http("/v1/releases", token=STEWARD, method="POST", body=json.dumps(spec).encode(),
                           headers={"Content-Type": "application/json"})
    assert status == 201, f"creating the second release: {status} {body[:300]!r}"
    return json.loads(body)["metadata"]["id"]


# ---- The browser -------------------------------------------------------------------------------


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600",
                "--lang=es-MX", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--font-render-hinting=none", "--force-color-profile=srgb"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    return driver


def ready_mark(driver):
    return driver.execute_script("return document.body && document.body.getAttribute('data-ready')")


def wait_ready(driver, previous=None, timeout=90):
    """Waits until the page has drawn everything for a new set of filters."""
    def done(d):
        mark = ready_mark(d)
        return mark is not None and mark != previous
    WebDriverWait(driver, timeout).until(done)
    return ready_mark(driver)


def load(driver, path="/"):
    driver.get(BASE + path)
    return wait_ready(driver)


def severe_logs(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def assert_no_console_errors(driver):
    errors = severe_logs(driver)
    assert not errors, "console errors: " + "; ".join(e.get("message", "")[:300] for e in errors)


def assert_no_alert(driver):
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        raise AssertionError(f"an alert fired: {text!r}")
    except NoAlertPresentException:
        pass


def drawn_points(driver, selector):
    """The data-* attributes of every drawn point of the chart in `selector`."""
    return driver.execute_script(
        """
        const svg = document.querySelector(arguments[0] + ' svg');
        if (!svg) return null;
        return [...svg.querySelectorAll('g.point')].map(g => ({
            series: g.getAttribute('data-series'), group: g.getAttribute('data-group'), x: g.getAttribute('data-x'),
            value: g.getAttribute('data-value'), low: g.getAttribute('data-low'), high: g.getAttribute('data-high'),
            status: g.getAttribute('data-status'), reliable: g.getAttribute('data-reliable'),
            release: g.getAttribute('data-release'), cls: g.getAttribute('class'),
            title: (g.querySelector('title') || {}).textContent || '',
            fill: (g.querySelector('.marker, .bar') || {getAttribute: () => null}).getAttribute('fill')}));
        """, selector)


def number(text):
    return None if text in (None, "") else float(text)


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def group_cell(group):
    return "&".join(sorted(f"{k}={v}" for k, v in (group or {}).items()))


def check_chart_against_json(drawn, answer, trend=False):
    """Every figure with a value is drawn once with the JSON's value, interval and reliability;
    nothing past follow-up is drawn. Returns (drawn count, beyond-follow-up count in the JSON)."""
    assert drawn is not None, f"{answer['metric']}: no chart"
    expected = {}
    beyond = 0
    for s in answer["series"]:
        for p in s["points"]:
            if p["status"] == "beyond_follow_up":
                beyond += 1
                continue
            if p["value"] is None:
                continue
            x = s["x"] if trend else p["x"]
            key = (s["name"], group_cell(s.get("group")), x, str(p["release_id"]) if trend else None)
            expected[key] = (p, s["unit"])
    seen = {}
    for d in drawn:
        assert d["status"] != "beyond_follow_up", f"{answer['metric']}: a point past follow-up is drawn: {d}"
        if number(d["value"]) is None:
            continue  # a bar's "not reached" note
        key = (d["series"], d["group"], d["x"], d["release"] if trend else None)
        assert key not in seen, f"{answer['metric']}: {key} drawn twice"
        seen[key] = d
    assert set(seen) == set(expected), (
        f"{answer['metric']}: drawn {sorted(set(seen) - set(expected))[:5]} not in the JSON; "
        f"missing {sorted(set(expected) - set(seen))[:5]}")
    for key, d in seen.items():
        p, unit = expected[key]
        assert same(number(d["value"]), p["value"]), f"{key}: value {d['value']} != {p['value']}"
        assert same(number(d["low"]), p["interval"]["low"]), f"{key}: low {d['low']} != {p['interval']['low']}"
        assert same(number(d["high"]), p["interval"]["high"]), f"{key}: high {d['high']} != {p['interval']['high']}"
        assert d["reliable"] == ("true" if p["reliable"] else "false"), f"{key}: reliability"
        assert ("unreliable" in d["cls"].split()) == (not p["reliable"]), f"{key}: class {d['cls']}"
        if not p["reliable"]:
            assert d["fill"] == "#858585", f"{key}: an unreliable figure is not grey ({d['fill']})"
        if unit == "proportion":
            shown = percent_texts(p["value"])
            assert any(t + " %" in d["title"] for t in shown), f"{key}: title {d['title']!r} does not say {shown}"
    return len(seen), beyond


def percent_texts(v):
    """A proportion as a percentage with one decimal, either way a tie may be rounded (printf and
    JavaScript's toFixed break ties differently)."""
    return {f"{v * 100 + e:.1f}" for e in (-1e-9, 0, 1e-9)}


# ---- Tests -------------------------------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def page_headers_and_no_reflection(driver):
    status, headers, body = http("/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html"), headers["Content-Type"]
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert "frame-ancestors 'none'" in csp, csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in body.replace(b'<script src="/dashboard.js" defer></script>', b""), "inline script in the page"
    for path, kind in [("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")]:
        s, h, b = http(path)
        assert s == 200 and h["Content-Type"].startswith(kind) and h["X-Content-Type-Options"] == "nosniff", (path, s, h["Content-Type"])
        assert len(b) > 1000, path
    # The same bytes whatever the query string: nothing is reflected.
    for payload in XSS:
        s, _, b = http("/", {"lang": payload, "state": payload, payload: payload})
        assert s == 200 and b == body, f"/ with {payload!r} answered differently"
    # Revalidation: the entity tag answers 304.
    s, _, _ = http("/", headers={"If-None-Match": headers["ETag"]})
    assert s == 304, s


@test
def charts_show_the_api_values_in_spanish(driver):
    load(driver)
    assert driver.execute_script("return document.documentElement.lang") == "es"
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("¿Cuánto tarda")
    total_beyond = 0
    drawn_boards = 0
    for metric in BOARDS:
        answer = api_json(f"/v1/dashboards/{metric}", {"lang": "es"})
        section = f"#board-{metric}"
        assert driver.find_element(By.CSS_SELECTOR, f"{section} h2").text == answer["title"]
        drawn = drawn_points(driver, section)
        count, beyond = check_chart_against_json(drawn, answer)
        # A board may have nothing to draw at the demo's small volume: every share's noisy
        # denominator may reach 0 (insufficient_data: no value is published, docs/metrics.md §4),
        # e.g. the dispositions of a few dozen charged cases. Then the API must say so for every point.
        values = [p for s in answer["series"] for p in s["points"] if p.get("value") is not None]
        assert count > 0 or not values, f"{metric}: nothing drawn, though the API has {len(values)} values"
        if count == 0:
            statuses = {p["status"] for s in answer["series"] for p in s["points"]}
            assert statuses <= {"insufficient_data", "beyond_follow_up", "not_reached", "undefined"}, statuses
        drawn_boards += 1 if count > 0 else 0
        total_beyond += beyond
        svg = driver.find_element(By.CSS_SELECTOR, f"{section} svg")
        assert svg.get_attribute("role") == "img" and svg.get_attribute("lang") == "es"
        assert "Publicación 1" in driver.find_element(By.CSS_SELECTOR, f"{section} .meta").text
    assert total_beyond > 0, "no series reaches past follow-up: the cut is not tested"
    assert drawn_boards >= len(BOARDS) - 2, f"only {drawn_boards} of {len(BOARDS)} boards drew anything"
    # The victim-updates board (survivors' recommendation 7) is there.
    assert driver.find_elements(By.CSS_SELECTOR, "#board-victim-updates svg g.point")
    # Key figures carry their intervals.
    keys = driver.find_elements(By.CSS_SELECTOR, "#key-list .key-interval")
    assert len(keys) >= 2 and all("Intervalo del 95 %" in k.text for k in keys), [k.text for k in keys]
    assert_no_console_errors(driver)


@test
def show_as_table_from_the_keyboard(driver):
    load(driver)
    answer = api_json("/v1/dashboards/funnel", {"lang": "es"})
    toggle = driver.find_element(By.CSS_SELECTOR, "#board-funnel .table-toggle")
    assert toggle.text == "Mostrar como tabla" and toggle.get_attribute("aria-expanded") == "false"
    table_box = driver.find_element(By.ID, toggle.get_attribute("aria-controls"))
    assert not table_box.is_displayed()
    driver.execute_script("arguments[0].focus()", toggle)
    toggle.send_keys(Keys.ENTER)
    assert toggle.get_attribute("aria-expanded") == "true" and table_box.is_displayed()
    tables = table_box.find_elements(By.TAG_NAME, "table")
    assert len(tables) == len(answer["series"])
    for table, s in zip(tables, answer["series"]):
        assert table.find_element(By.TAG_NAME, "caption").text == s["title"]
        rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) == len(s["points"])
        for row, p in zip(rows, s["points"]):
            cells = row.find_elements(By.TAG_NAME, "td")
            assert row.find_element(By.TAG_NAME, "th").text == p["label"]
            if p["value"] is not None and s["unit"] == "proportion":
                assert cells[0].text in {t + " %" for t in percent_texts(p["value"])}, (cells[0].text, p["value"])
                low, high = p["interval"]["low"], p["interval"]["high"]
                if low is not None and high is not None:
                    shown = {f"{a} – {b} %" for a in percent_texts(low) for b in percent_texts(high)}
                    assert cells[1].text in shown, (cells[1].text, low, high)
            assert ("unreliable" in (row.get_attribute("class") or "")) == (p["value"] is not None and not p["reliable"])
    toggle.send_keys(Keys.SPACE)
    assert toggle.get_attribute("aria-expanded") == "false" and not table_box.is_displayed()
    # Focus is visible.
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    assert_no_console_errors(driver)


@test
def language_switch_by_keyboard(driver):
    mark = load(driver)
    # Tab from the top: the skip link, then the language switch.
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element.get_attribute("class") == "skip"
    ActionChains(driver).send_keys(Keys.TAB).perform()
    switch = driver.switch_to.active_element
    assert switch.get_attribute("id") == "lang-switch" and switch.text == "English" and switch.get_attribute("lang") == "en"
    switch.send_keys(Keys.ENTER)
    mark = wait_ready(driver, mark)
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("How long does justice take")
    assert driver.find_element(By.ID, "lang-switch").text == "Español"
    assert "lang=en" in driver.current_url
    for metric in BOARDS:
        answer = api_json(f"/v1/dashboards/{metric}", {"lang": "en"})
        assert driver.find_element(By.CSS_SELECTOR, f"#board-{metric} h2").text == answer["title"]
        assert driver.find_element(By.CSS_SELECTOR, f"#board-{metric} svg").get_attribute("lang") == "en"
        check_chart_against_json(drawn_points(driver, f"#board-{metric}"), answer)
    assert "Days since the report" in driver.find_element(By.CSS_SELECTOR, "#board-time-to-decision svg").get_attribute("textContent")
    assert driver.find_element(By.ID, "interval-note").text.startswith("Every figure carries")
    # And back, from the English page's address.
    driver.find_element(By.ID, "lang-switch").click()
    wait_ready(driver, mark)
    assert driver.execute_script("return document.documentElement.lang") == "es"
    assert "lang=" not in driver.current_url
    assert_no_console_errors(driver)


@test
def filters_cohort_state_offence(driver):
    mark = load(driver)
    index = api_json("/v1/dashboards", {"lang": "es"})
    cohorts = [v["code"] for f in index["filters"] if f["name"] == "cohort" for v in f["values"]]
    cohort = cohorts[len(cohorts) // 2]
    Select(driver.find_element(By.ID, "f-cohort")).select_by_value(cohort)
    mark = wait_ready(driver, mark)
    assert f"cohort={cohort}" in driver.current_url
    for metric in BOARDS:
        answer = api_json(f"/v1/dashboards/{metric}", {"lang": "es", "cohort": cohort})
        check_chart_against_json(drawn_points(driver, f"#board-{metric}"), answer)
    # A state: the boards with a state breakdown answer; the others say which breakdowns exist.
    Select(driver.find_element(By.ID, "f-state")).select_by_value("14")
    mark = wait_ready(driver, mark)
    answered = 0
    for metric in BOARDS:
        board = next(b for b in index["dashboards"] if b["metric"] == metric)
        can = any("state" in bd for r in board["releases"] for bd in r["breakdowns"])
        if can:
            answer = api_json(f"/v1/dashboards/{metric}", {"lang": "es", "cohort": cohort, "state": "14"})
            assert answer["filters"]["state"] == ["14"]
            check_chart_against_json(drawn_points(driver, f"#board-{metric}"), answer)
            answered += 1
        else:
            notice = driver.find_element(By.CSS_SELECTOR, f"#board-{metric} .notice").text
            assert "Ninguna publicación" in notice and "Desgloses disponibles" in notice, notice
            status, _, _ = http(f"/v1/dashboards/{metric}", {"cohort": cohort, "state": "14"})
            assert status == 422, f"{metric}: the page said unanswerable, the API answered {status}"
    assert answered >= 1
    # An offence instead of a state.
    Select(driver.find_element(By.ID, "f-state")).select_by_value("")
    mark = wait_ready(driver, mark)
    Select(driver.find_element(By.ID, "f-offence")).select_by_value("online_grooming")
    mark = wait_ready(driver, mark)
    answer = api_json("/v1/dashboards/funnel", {"lang": "es", "cohort": cohort, "offence": "online_grooming"})
    check_chart_against_json(drawn_points(driver, "#board-funnel"), answer)
    assert "offence=online_grooming" in driver.current_url
    driver.find_element(By.ID, "reset").click()
    wait_ready(driver, mark)
    assert "?" not in driver.current_url
    assert_no_console_errors(driver)


@test
def state_comparison(driver):
    mark = load(driver)
    driver.find_element(By.CSS_SELECTOR, "#compare summary").click()
    driver.find_element(By.CSS_SELECTOR, "label[for='cmp-09']").click()
    mark = wait_ready(driver, mark)
    assert "al menos una entidad más" in driver.find_element(By.ID, "f-state-hint").text
    driver.find_element(By.CSS_SELECTOR, "label[for='cmp-14']").click()
    mark = wait_ready(driver, mark)
    assert not driver.find_element(By.ID, "f-state").is_enabled()
    assert "state=09%2C14" in driver.current_url or "state=09,14" in driver.current_url
    answer = api_json("/v1/dashboards/time-to-decision", {"lang": "es", "state": "09,14"})
    drawn = drawn_points(driver, "#board-time-to-decision")
    check_chart_against_json(drawn, answer)
    assert {d["group"] for d in drawn} == {"state=09", "state=14"}
    legend = driver.find_element(By.CSS_SELECTOR, "#board-time-to-decision svg").get_attribute("textContent")
    assert "Ciudad de México" in legend and "Jalisco" in legend
    trend = api_json("/v1/dashboards/time-to-charge/trend", {"lang": "es", "state": "09,14", "x": "365"})
    check_chart_against_json(drawn_points(driver, "#trend"), trend, trend=True)
    driver.find_element(By.ID, "compare-clear").click()
    wait_ready(driver, mark)
    assert driver.find_element(By.ID, "f-state").is_enabled()
    assert_no_console_errors(driver)


@test
def token_opens_a_non_public_release_and_stays_in_memory(driver):
    mark = load(driver)
    second = os.environ["PLAZO_SECOND_RELEASE"]
    releases = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "f-release")).options]
    assert second not in releases, "a non-public release is listed without a token"
    trend_public = api_json("/v1/dashboards/time-to-charge/trend", {"lang": "es", "x": "365"})
    check_chart_against_json(drawn_points(driver, "#trend"), trend_public, trend=True)
    field = driver.find_element(By.ID, "token-input")
    assert field.get_attribute("type") == "password"
    field.send_keys(OVERSIGHT)
    field.send_keys(Keys.ENTER)
    mark = wait_ready(driver, mark)
    assert "Token en uso" in driver.find_element(By.ID, "token-status").text
    options = Select(driver.find_element(By.ID, "f-release")).options
    assert any(o.get_attribute("value") == second and "no pública" in o.text for o in options), [o.text for o in options]
    # The trend now runs across both releases.
    trend = api_json("/v1/dashboards/time-to-charge/trend", {"lang": "es", "x": "365"}, token=OVERSIGHT)
    drawn = drawn_points(driver, "#trend")
    check_chart_against_json(drawn, trend, trend=True)
    assert {d["release"] for d in drawn} >= {"1", second}
    # Choosing the non-public release.
    Select(driver.find_element(By.ID, "f-release")).select_by_value(second)
    mark = wait_ready(driver, mark)
    assert f"Publicación {second}" in driver.find_element(By.CSS_SELECTOR, "#board-funnel .meta").text
    answer = api_json("/v1/dashboards/funnel", {"lang": "es", "release": second}, token=OVERSIGHT)
    check_chart_against_json(drawn_points(driver, "#board-funnel"), answer)
    # The token is nowhere but in the page's memory.
    where = driver.execute_script(
        """return {url: location.href, local: JSON.stringify(Object.assign({}, localStorage)),
                   session: JSON.stringify(Object.assign({}, sessionStorage)), cookie: document.cookie,
                   field: document.getElementById('token-input').value, html: document.documentElement.outerHTML,
                   history: history.length};""")
    for place in ["url", "local", "session", "cookie", "field", "html"]:
        assert OVERSIGHT not in where[place], f"the token is in {place}"
    assert driver.get_cookies() == []
    assert_no_console_errors(driver)
    # Forgetting it: back to public releases only.
    driver.find_element(By.ID, "token-forget").click()
    wait_ready(driver, mark)
    releases = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "f-release")).options]
    assert second not in releases
    assert_no_console_errors(driver)


@test
def wrong_token_is_refused_in_words(driver):
    mark = load(driver)
    field = driver.find_element(By.ID, "token-input")
    field.send_keys("plz_" + "A" * 43)
    driver.find_element(By.ID, "token-use").click()
    WebDriverWait(driver, 30).until(lambda d: "no aceptó" in d.find_element(By.ID, "token-status").text)
    wait_ready(driver, mark)
    # The page still shows the public release; the 401 is the only console entry.
    assert driver.find_elements(By.CSS_SELECTOR, "#board-funnel svg g.point")
    errors = severe_logs(driver)
    # The refused request is in the console: proof that the console checks of the other tests see errors.
    assert errors and all("401" in e.get("message", "") for e in errors), errors


@test
def screenshots_are_not_blank(driver):
    for lang, path in [("es", "/"), ("en", "/?lang=en")]:
        load(driver, path)
        # The whole page, through the DevTools protocol (a window is never taller than the screen).
        height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 16000)")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
        try:
            time.sleep(0.3)
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        file = os.path.join(SHOTS, f"plazo-dashboard-{lang}.png")
        with open(file, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        image = Image.open(file).convert("RGB")
        colours = image.getcolors(maxcolors=1 << 20)
        distinct = len(colours) if colours else 1 << 20
        spread = ImageStat.Stat(image.convert("L")).stddev[0]
        assert distinct > 200 and spread > 20, f"{file} looks blank: {distinct} colours, stddev {spread:.1f}"
        print(f"    screenshot {file}: {image.size[0]}x{image.size[1]}, {distinct} colours")
    assert_no_console_errors(driver)


def axe_script():
    """axe-core: the newest copy available from PyPI (axe-playwright-python ships axe 4.x, used
    here as a file only), else the one axe-selenium-python vendors."""
    try:
        import axe_playwright_python
        newer = os.path.join(os.path.dirname(axe_playwright_python.__file__), "axe.min.js")
        if os.path.exists(newer):
            return newer
    except ImportError:
        pass
    import axe_selenium_python
    return os.path.join(os.path.dirname(axe_selenium_python.__file__), "node_modules", "axe-core", "axe.min.js")


@test
def accessibility_axe(driver):
    from axe_selenium_python import Axe
    script = axe_script()
    checked = []
    for path, setup in [("/", None), ("/?lang=en", None), ("/?state=09,14", None), ("/", "tables")]:
        load(driver, path)
        if setup == "tables":
            for toggle in driver.find_elements(By.CSS_SELECTOR, ".table-toggle"):
                toggle.click()
            driver.find_element(By.CSS_SELECTOR, "#compare summary").click()
        axe = Axe(driver, script_url=script)
        axe.inject()
        results = axe.run(options='{"resultTypes": ["violations"]}')
        version = results.get("testEngine", {}).get("version", "?")
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"axe {version} on {path} ({setup}): " + "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3]) for v in bad)
        minor = [f"{v['id']} ({v['impact']})" for v in results["violations"]]
        checked.append(f"{path} {setup or ''}: {len(results['passes']) if 'passes' in results else '-'} ok, minor: {minor or 'none'}")
    print(f"    axe {version}: " + " | ".join(checked))
    # The token field takes "off" from its form (the HTML spec's default for a control without
    # its own autocomplete attribute): older axe 4 releases, such as the one axe-selenium-python
    # vendors, report autocomplete="off" on a password field as autocomplete-valid. Hold the page
    # to that engine's autocomplete rules too.
    import axe_selenium_python
    vendored = os.path.join(os.path.dirname(axe_selenium_python.__file__), "node_modules", "axe-core", "axe.min.js")
    if vendored != script:
        load(driver, "/")
        axe = Axe(driver, script_url=vendored)
        axe.inject()
        results = axe.run(options='{"runOnly": {"type": "rule", "values": ["autocomplete-valid"]}}')
        assert not results["violations"], "vendored axe: " + "; ".join(
            f"{v['id']}: " + ", ".join(n["target"][0] for n in v["nodes"]) for v in results["violations"])
    # Nor may the field invite the browser to fill in or save the token.
    load(driver, "/")
    own, form = driver.execute_script(
        "return [document.getElementById('token-input').getAttribute('autocomplete'),"
        " document.getElementById('token-form').getAttribute('autocomplete')]")
    assert own in (None, "off") and form == "off", (own, form)
    assert_no_console_errors(driver)


@test
def hostile_addresses_inject_nothing(driver):
    hostile = [
        "/?" + urllib.parse.urlencode({"lang": '"><img src=x onerror=alert(1)>', "state": "<script>alert(1)</script>",
                                       "cohort": "<svg/onload=alert(1)>", "release": "1 OR 1=1", "offence": "javascript:alert(1)",
                                       "x": "<b>x</b>", "trend": "</script><script>alert(1)</script>"}),
        "/#\"><img src=x onerror=alert(1)>",
        "/?state=09,<img src=x onerror=alert(1)>,14#<script>alert(1)</script>",
        "/?" + "state=" + "9" * 3000 + "&cohort=" + "Q" * 3000,
        "/?lang=en&lang=<script>alert(1)</script>",
    ]
    for path in hostile:
        driver.get(BASE + path)
        try:
            wait_ready(driver)
        except TimeoutException:
            raise AssertionError(f"the page did not finish loading for {path[:80]!r}")
        assert_no_alert(driver)
        found = driver.execute_script(
            """return {img: document.images.length, scripts: [...document.scripts].map(s => s.src),
                       handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                       text: document.body.innerText, lang: document.documentElement.lang, url: location.href,
                       foreign: document.querySelectorAll('svg script, svg foreignObject, iframe, object, embed').length};""")
        assert found["img"] == 0, f"{path[:60]!r}: an <img> was injected"
        assert found["scripts"] == [BASE + "/dashboard.js"], found["scripts"]
        assert found["handlers"] == 0 and found["foreign"] == 0, path[:60]
        assert "alert(1)" not in found["text"] and "<script" not in found["text"], f"{path[:60]!r}: reflected"
        assert "<" not in urllib.parse.unquote(found["url"].split("#")[0]), f"the page wrote a hostile value to its address: {found['url'][:120]}"
        assert found["lang"] in ("es", "en")
        assert driver.find_elements(By.CSS_SELECTOR, "#board-funnel svg g.point"), f"{path[:60]!r}: the page broke"
        assert_no_console_errors(driver)


@test
def hostile_api_parameters_are_refused_not_reflected(driver):
    paths = ["/v1/dashboards", "/v1/dashboards/funnel", "/v1/dashboards/time-to-charge/trend"]
    for path in paths:
        for name in ["state", "lang", "cohort", "release", "offence", "format", "x", "<script>"]:
            for payload in XSS + ["A" * 5000]:
                if name == "x" and not path.endswith("trend"):
                    continue
                for fmt in (None, "svg", "csv"):
                    params = {name: payload}
                    if fmt and name != "format":
                        params["format"] = fmt
                    status, headers, body = http(path, params)
                    if path == "/v1/dashboards" and name in ("state", "offence", "cohort", "release", "x", "format", "<script>") and status == 200:
                        continue  # the index takes no filters it does not check
                    assert 400 <= status < 500, f"{path} {name}={payload[:30]!r}: {status}"
                    kind = headers.get("Content-Type", "")
                    assert kind.startswith("application/json"), f"{path} {name}: a refusal as {kind}"
                    assert len(body) < 3000, f"{path} {name}: an over-long value echoed whole ({len(body)} bytes)"
                    assert b"A" * 100 not in body
                    message = json.loads(body)["error"]["message"]
                    assert "\n" not in message
    # A chart's text is always escaped XML: a valid SVG has no raw markup from the query.
    status, headers, body = http("/v1/dashboards/funnel", {"format": "svg", "lang": "es"})
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    import xml.dom.minidom
    document = xml.dom.minidom.parseString(body)
    assert not document.getElementsByTagName("script") and not document.getElementsByTagName("foreignObject")


# ---- Runner ------------------------------------------------------------------------------------


def main():
    os.environ["PLAZO_SECOND_RELEASE"] = str(make_second_release())
    driver = browser()
    passed, failed = 0, 0
    only = [n for n in os.environ.get("PLAZO_BROWSER_TESTS", "").split(",") if n]
    try:
        for fn in [f for f in TESTS if not only or f.__name__ in only]:
            started = time.time()
            driver.get_log("browser")  # drop what earlier tests left
            try:
                fn(driver)
                passed += 1
                print(f"ok    {fn.__name__} ({time.time() - started:.1f} s)", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL  {fn.__name__} ({time.time() - started:.1f} s)", flush=True)
                traceback.print_exc()
                try:
                    shot = os.path.join(SHOTS, f"plazo-failed-{fn.__name__}.png")
                    driver.save_screenshot(shot)
                    print(f"      screenshot of the failure: {shot}")
                except Exception:
                    pass
                try:
                    driver.get("about:blank")
                except Exception:
                    pass
    finally:
        driver.quit()
    print(f"browser: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
