"""A small W3C WebDriver client for Debian's chromium + chromium-driver.

Why not Selenium: Selenium 4 brings Selenium Manager, which looks for (and may try to
download) drivers and browsers; this suite must only ever use /usr/bin/chromium and
/usr/bin/chromedriver, offline. The W3C protocol is a handful of JSON calls over HTTP, and
`requests` is already pinned in interop/requirements.txt, so the suite adds no package.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import requests

CHROMIUM = os.environ.get("IDHUB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("IDHUB_CHROMEDRIVER", "/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

# Everything that could reach beyond this machine is off: no background networking,
# component updates, sync, QUIC; a fresh profile per browser.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--password-store=basic",
]


class WebDriverError(AssertionError):
    pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One headless Chromium with its own chromedriver and a fresh profile."""

    def __init__(self, artifacts, name, width=1280, height=900, args=()):
        self.artifacts = artifacts
        self.name = name
        self.shots = 0
        self.profile = tempfile.mkdtemp(prefix="idhub-chromium-")
        port = _free_port()
        self.log = open(os.path.join(artifacts, f"chromedriver-{name}.log"), "w")
        self.driver = subprocess.Popen(
            [CHROMEDRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        self.http.trust_env = False  # never a proxy: everything is on loopback
        deadline = time.time() + 30
        while True:
            try:
                if self.http.get(f"{self.url}/status", timeout=2).json()["value"]["ready"]:
                    break
            except Exception:
                pass
            if self.driver.poll() is not None or time.time() > deadline:
                raise WebDriverError(f"chromedriver did not start (exit {self.driver.poll()})")
            time.sleep(0.1)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": FLAGS + [f"--user-data-dir={self.profile}", f"--window-size={width},{height}", *args],
                    },
                }
            }
        }
        value = self._call("POST", "/session", caps, prefix=False)
        self.session = value["sessionId"]

    # -- protocol ---------------------------------------------------------------------
    def _call(self, method, path, body=None, prefix=True):
        url = f"{self.url}/session/{self.session}{path}" if prefix else f"{self.url}{path}"
        r = self.http.request(method, url, data=json.dumps(body if body is not None else {}), timeout=60)
        value = r.json().get("value")
        if r.status_code >= 400:
            raise WebDriverError(f"{method} {path}: {value.get('error')}: {value.get('message', '')[:400]}")
        return value

    def quit(self):
        try:
            self._call("DELETE", "")
        except Exception:
            pass
        self.driver.terminate()
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    # -- navigation and reading -------------------------------------------------------
    def get(self, url):
        self._call("POST", "/url", {"url": url})

    @property
    def current_url(self):
        return self._call("GET", "/url")

    @property
    def source(self):
        return self._call("GET", "/source")

    @property
    def title(self):
        return self._call("GET", "/title")

    def find_all(self, css):
        return [e[ELEMENT] for e in self._call("POST", "/elements", {"using": "css selector", "value": css})]

    def find(self, css, timeout=10):
        deadline = time.time() + timeout
        while True:
            found = self.find_all(css)
            if found:
                return found[0]
            if time.time() > deadline:
                raise WebDriverError(f"no element matches {css!r} on {self.current_url}\n{self.text('body')[:1500]}")
            time.sleep(0.1)

    def exists(self, css):
        return bool(self.find_all(css))

    def text(self, css):
        return self._call("GET", f"/element/{self.find(css)}/text")

    def value(self, css):
        return self._call("GET", f"/element/{self.find(css)}/property/value")

    def attribute(self, css, name):
        return self._call("GET", f"/element/{self.find(css)}/attribute/{name}")

    def selected(self, css):
        return self._call("GET", f"/element/{self.find(css)}/selected")

    def execute(self, script, *args):
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    # -- acting -----------------------------------------------------------------------
    def click(self, css, nav=True):
        """Click; with `nav` (links, submit buttons) wait until the next page has loaded,
        so nothing is read from the page being left."""
        el = self.find(css)
        if nav:
            self.execute("document.documentElement.dataset.wdLeaving = '1';")
        self.execute("arguments[0].scrollIntoView({block: 'center'});", {ELEMENT: el})
        self._call("POST", f"/element/{el}/click")
        if nav:
            deadline = time.time() + 20
            while True:
                try:
                    if self.execute("return !document.documentElement.dataset.wdLeaving && document.readyState === 'complete'"):
                        return
                except WebDriverError:
                    pass  # between documents
                if time.time() > deadline:
                    raise WebDriverError(f"clicking {css!r} did not lead to a new page ({self.current_url})")
                time.sleep(0.05)

    def fill(self, css, text):
        el = self.find(css)
        self._call("POST", f"/element/{el}/clear")
        self._call("POST", f"/element/{el}/value", {"text": text})

    def choose(self, css, value):
        """Pick the <option> with this value in the <select> at `css`."""
        self.click(f"{css} option[value=\"{value}\"]", nav=False)

    def check(self, css, on=True):
        if self.selected(css) != on:
            self.click(css, nav=False)

    def resize(self, width, height):
        self._call("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, step):
        """Save the viewport as target/browser-artifacts/<browser>-NN-<step>.png."""
        import base64

        self.shots += 1
        rect = self._call("GET", "/window/rect")
        full = self.execute("return document.documentElement.scrollHeight") or rect["height"]
        if full > rect["height"]:
            self.resize(rect["width"], min(full + 120, 6000))
        path = os.path.join(self.artifacts, f"{self.name}-{self.shots:02d}-{step}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._call("GET", "/screenshot")))
        if full > rect["height"]:
            self.resize(rect["width"], rect["height"])
        return path
