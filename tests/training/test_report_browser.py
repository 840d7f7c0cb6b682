"""The leaders' report in a real browser: headless Debian chromium, driven over DevTools.

No browser library is needed: chromium runs with ``--remote-debugging-pipe`` and this file speaks
the Chrome DevTools Protocol over that pipe (JSON messages separated by NUL bytes on file
descriptors 3 and 4). The test opens ``reports/<cycle>/index.html`` from disk and checks that

* the console stays clean (no error message, no uncaught exception, no failed load);
* every chart rendered with a non-zero size;
* every figure on the page equals the metric it names on the MLflow run (``data-metric``);
* a screenshot lands in ``test-artifacts/report.png`` (repo root, git-ignored).

``scripts/test.sh`` installs chromium (Debian package) when it can; without it the test skips.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.report_cycles import session_cycles
from training.report_figures import parse_value, tolerance

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("LEADSCORE_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "test-artifacts" / "report.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--remote-debugging-pipe")


class Browser:
    """A headless chromium and one page in it, spoken to over the DevTools pipe."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="leadscore-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads our commands, fd 4 writes replies
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _receive(self, done) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if done(message):
                    return message
                self.events.append(message)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk

    def call(self, method: str, params: dict | None = None, *, session: bool = False) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        reply = self._receive(lambda m: m.get("id") == message["id"])
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url}, session=True)
        self.events.append(self._receive(lambda m: m.get("method") == "Page.loadEventFired"))

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(json.dumps(params.get("args"))[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(params["entry"].get("text", ""))
        return errors

    def screenshot(self, path: Path) -> Path:
        size = {"width": 1100, "height": 800, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", size, session=True)
        size["height"] = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", size, session=True)
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                         session=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (scripts/test.sh does, as "
                    "root: apt-get install chromium) or set LEADSCORE_CHROMIUM.")
    session = Browser()
    yield session
    session.close()


@pytest.fixture(scope="module")
def opened_report(browser, tmp_path_factory):
    from mlflow.tracking import MlflowClient

    from training.report import write_report

    cycles = session_cycles(tmp_path_factory)
    with pytest.MonkeyPatch.context() as patch:
        cycles.use(patch)
        path = write_report(cycles.cycles[-1][0], cycles.config, cycles.root / "reports")
        browser.open(path.resolve().as_uri())
        yield browser, path, MlflowClient(tracking_uri=cycles.tracking_uri)


def test_no_console_errors(opened_report):
    browser, _, _ = opened_report
    assert browser.console_errors() == []


def test_every_chart_rendered(opened_report):
    browser, _, _ = opened_report
    sizes = browser.evaluate(
        "[...document.querySelectorAll('svg.chart, img')].map(e => {"
        " const r = e.getBoundingClientRect();"
        " return {title: (e.querySelector('title') || {}).textContent || e.alt || '',"
        "         width: r.width, height: r.height}; })"
    )
    assert len(sizes) >= 6, sizes
    empty = [s for s in sizes if s["width"] <= 0 or s["height"] <= 0]
    assert empty == []


def test_figures_equal_run_metrics(opened_report):
    browser, _, client = opened_report
    figures = browser.evaluate(
        "[...document.querySelectorAll('[data-metric]')].map(e => ({key: e.dataset.metric,"
        " fmt: e.dataset.format, run: e.dataset.run, text: e.textContent}))"
    )
    assert len(figures) >= 30
    metrics = {}
    mismatched = []
    for fig in figures:
        if fig["run"] not in metrics:
            metrics[fig["run"]] = client.get_run(fig["run"]).data.metrics
        shown = parse_value(fig["text"], fig["fmt"])
        logged = metrics[fig["run"]].get(fig["key"])
        if shown is None:
            if logged is not None and logged == logged:
                mismatched.append((fig["key"], fig["text"], logged))
            continue
        if logged is None or abs(shown - logged) > tolerance(fig["fmt"]):
            mismatched.append((fig["key"], fig["text"], logged))
    assert mismatched == []
    keys = {f["key"] for f in figures}
    for key in ("conversion_at_threshold", "mqls_per_week", "threshold", "roc_auc",
                "report.acceptance_rate", "report.first_touch.within_1h"):
        assert key in keys


def test_screenshot(opened_report):
    browser, _, _ = opened_report
    path = browser.screenshot(SCREENSHOT)
    assert path.stat().st_size > 10_000
    print(f"report screenshot: {path}")
