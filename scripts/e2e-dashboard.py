#!/usr/bin/env python3
"""The dashboard in a real browser: Debian's chromium driven by chromium-driver over WebDriver
(W3C protocol, spoken with the standard library only).

usage: scripts/e2e-dashboard.py BINARY [--screenshot PATH]   (from the workspace root)

Checks, each failing the script:
  1. the page opens and its event stream connects (status "live");
  2. three clicks sent after the page opened appear within a second, without a reload, as
     elements with data-seq, their diagnostics as elements with data-code;
  3. a hostile User-Agent (<script>, <img onerror>) stays text: no alert, no injected
     element, the text visible as sent;
  4. the browser console shows no error (CSP violations included);
  5. a page opened against a token-protected mock, without the token, shows no request and
     asks for the token; given the token, it shows them;
  6. postbacks appear as they are attempted: an attempt answered 200 plain, a 204 (delivered
     under the tracker's "2xx" reading) as a warning, a 503 as an error while its delivery
     stays pending for its retries.
All traffic is on loopback; every wait is bounded.
"""
import http.server
import json
import os
import threading
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HOSTILE_UA = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'


def fail(msg):
    sys.exit(f"e2e-dashboard: FAIL: {msg}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mock:
    def __init__(self, binary, *extra):
        self.proc = subprocess.Popen(
            [binary, "serve", "--click-listen", "127.0.0.1:0", "--impression-listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            m = re.match(r"listening\s+clicks\s+http://(\S+)", line)
            if m:
                self.base = "http://" + m.group(1)
                return
        fail("the mock printed no listening line")

    def click(self, click_id, ua, ip="5.255.232.147"):
        q = urllib.parse.urlencode({"click_id": click_id, "device_ip": ip,
                                    "device_ua": ua, "click_timestamp": int(time.time())})
        try:
            urllib.request.urlopen(f"{self.base}/serve/1234567890123456789?{q}", timeout=5).read()
        except urllib.error.HTTPError:
            pass  # 400s are answers too

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def receiver(status):
    """A postback receiver on loopback answering every request with `status`; its port."""
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def check_postbacks(binary, browser):
    """Check 6: one tracker per receiver, each under the "2xx" reading; an install each."""
    trackers = ""
    for n, status in enumerate((200, 204, 503), start=1):
        port = receiver(status)
        trackers += (f'[[tracker]]\nid = {n}\nname = "R{status}"\nplatform = "android"\n'
                     f'store_url = "https://play.google.com/store/apps/details?id=x"\n'
                     f'[tracker.postback_policy]\nsuccess = "2xx"\n'
                     f'[[tracker.postback]]\nevent = "install"\n'
                     f'url = "http://127.0.0.1:{port}/pb?c={{click_id}}"\n')
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(trackers)
    mock = Mock(binary, "--config", f.name)
    try:
        browser.go(mock.base + "/")
        browser.wait_for("return document.getElementById('status').textContent === 'live'", 5,
                         "the event stream did not connect (postbacks)")
        for n in (1, 2, 3):
            gaid = f"38400000-8cf0-11bd-b23e-10b96e4000{n:02d}"
            q = urllib.parse.urlencode({"click_id": f"pb-{n}", "google_aid": gaid,
                                        "device_ip": "5.255.232.147",
                                        "device_ua": "Mozilla/5.0 (Linux; Android 14; Pixel 8)",
                                        "click_timestamp": int(time.time())})
            urllib.request.urlopen(f"{mock.base}/serve/{n}?{q}", timeout=5).read()
            body = json.dumps({"tracking_id": n, "event": "install", "google_aid": gaid}).encode()
            urllib.request.urlopen(urllib.request.Request(
                f"{mock.base}/__admin/conversions", data=body, method="POST"), timeout=5).read()
        browser.wait_for("return [...document.querySelectorAll('[data-postback]')]"
                         ".filter(a => a.querySelector('ul.diags li')).length === 3", 5,
                         "three attempted postbacks did not appear")
        shown = browser.js(
            "return [...document.querySelectorAll('[data-postback]')].map(a => ["
            "a.querySelector('.status-code').textContent, a.querySelector('ul.diags li').className,"
            "a.querySelector('ul.diags li').textContent, a.classList.contains('error')])")
        by_status = {}
        for state, cls, text, marked in shown:
            m = re.search(r"HTTP (\d+)", text)
            if not m:
                fail(f"an attempt without its status: {text!r}")
            by_status[m.group(1)] = (state, cls, marked)
        want = {"200": ("delivered", "", False), "204": ("delivered", "sev-warning", False),
                "503": ("pending", "sev-error", False)}
        if by_status != want:
            fail(f"postbacks shown as {by_status}, expected {want}")
    finally:
        mock.stop()
        os.unlink(f.name)


class Browser:
    def __init__(self):
        driver = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
        if not os.path.exists(driver):
            fail("no chromedriver (Debian: apt-get install chromium-driver)")
        self.port = free_port()
        self.proc = subprocess.Popen([driver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                self.call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        self.profile = tempfile.mkdtemp(prefix="e2e-dashboard-")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": shutil.which("chromium") or "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", f"--user-data-dir={self.profile}",
                         "--no-first-run", "--disable-background-networking"],
            },
        }}}
        self.session = self.call("POST", "/session", caps)["value"]["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"{}")

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})["value"]

    def wait_for(self, script, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = self.js(script)
            if v:
                return v
            time.sleep(0.05)
        fail(f"{what} within {timeout} s")

    def alert_text(self):
        v = self.s("GET", "/alert/text")["value"]
        return v if isinstance(v, str) else None

    def console(self):
        v = self.s("POST", "/se/log", {"type": "browser"}).get("value", [])
        return v if isinstance(v, list) else []

    def screenshot(self, path):
        import base64
        png = base64.b64decode(self.s("GET", "/screenshot")["value"])
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        try:
            self.s("DELETE", "")
        finally:
            self.proc.terminate()
            shutil.rmtree(self.profile, ignore_errors=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    shot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
    mock = Mock(binary)
    browser = Browser()
    try:
        browser.go(mock.base + "/")
        browser.wait_for("return document.getElementById('status').textContent === 'live'", 5,
                         "the event stream did not connect")
        before = browser.js("return document.querySelectorAll('[data-seq]').length")
        if before != 0:
            fail(f"{before} requests shown before any was sent")

        sent = time.time()
        mock.click("e2e-1", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36")
        mock.click("e2e-2", HOSTILE_UA)
        mock.click("e2e-3", "okhttp/4.12.0", ip="10.0.0.1:443")
        browser.wait_for("return document.querySelectorAll('[data-seq]').length >= 3", 1.0 + (time.time() - sent),
                         "three clicks did not appear")
        seqs = browser.js("return [...document.querySelectorAll('[data-seq]')].map(e => e.dataset.seq)")
        if sorted(seqs) != ["1", "2", "3"]:
            fail(f"unexpected entries {seqs}")
        codes = set(browser.js("return [...document.querySelectorAll('[data-code]')].map(e => e.dataset.code)"))
        for want in ("ua-server-client", "ip-with-port"):
            if want not in codes:
                fail(f"no data-code={want} among {sorted(codes)}")

        # The hostile UA: text, not markup.
        if browser.alert_text() is not None:
            fail("an alert opened")
        title = browser.js("return document.title")
        if "pwned" in title:
            fail(f"the payload ran: title {title!r}")
        imgs = browser.js("return document.querySelectorAll('main img, main script').length")
        if imgs:
            fail(f"{imgs} element(s) injected into the page")
        text = browser.js("return document.querySelector('[data-seq=\"2\"]').textContent")
        if "<script>" not in text and "%3Cscript%3E" not in text:
            fail("the hostile UA is not shown as text")

        if shot:
            browser.js("document.querySelector('[data-seq=\"3\"] details').open = true")
            browser.screenshot(shot)

        errors = [e for e in browser.console() if e.get("level") == "SEVERE"]
        if errors:
            fail("console errors: " + json.dumps(errors)[:2000])

        # A token-protected mock: without the token, nothing; with it, the requests.
        secured = Mock(binary, "--admin-token", "s3cret-e2e")
        try:
            secured.click("t-1", "Mozilla/5.0 (Linux; Android 14; Pixel 8)")
            browser.go(secured.base + "/")
            browser.wait_for("return !document.getElementById('token-form').hidden", 5,
                             "the page did not ask for the token")
            time.sleep(0.3)
            shown = browser.js("return document.querySelectorAll('[data-seq]').length")
            if shown:
                fail(f"{shown} request(s) shown without the token")
            url = browser.js("return location.href")
            browser.js("document.getElementById('token').value = 's3cret-e2e';"
                       "document.getElementById('token-form').requestSubmit()")
            browser.wait_for("return document.querySelectorAll('[data-seq]').length >= 1", 5,
                             "the token did not open the stream")
            if "s3cret" in browser.js("return location.href") or "s3cret" in url:
                fail("the token went into a URL")
        finally:
            secured.stop()
        check_postbacks(binary, browser)
        print("e2e-dashboard: OK: live entries within 1 s, data-seq/data-code hooks, hostile UA inert, "
              "no console error, token-protected mock shows nothing without the token, "
              "postback attempts marked by what they mean")
    finally:
        browser.quit()
        mock.stop()


if __name__ == "__main__":
    main()
