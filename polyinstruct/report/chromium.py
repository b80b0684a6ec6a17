"""Headless Chromium over the DevTools protocol, for the answer browser's tests, perf script and screenshot.

Debian's `chromium` is started with a fresh profile, no sandbox, no GPU and no network services, and is
driven through its DevTools websocket (aiohttp's client): open a page, evaluate JavaScript in it,
wait for a condition, take a screenshot. JavaScript exceptions and console errors are collected in
`errors`, so a test can assert the page ran cleanly.

    python -m polyinstruct.report.chromium install          # apt-get install chromium when missing (root)
    python -m polyinstruct.report.chromium screenshot [INDEX OUT] [--fragment 'l=fr&r=0,1'] [--if-available]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from polyinstruct.workflow import paths

PACKAGES = ("chromium",)
BINARIES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


def binary() -> str | None:
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    return None


def why_unavailable() -> str | None:
    """None when headless Chromium can run here, else the reason (for a skip message)."""
    if binary() is not None:
        return None
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "Chromium is not installed and cannot be installed here (needs root and apt-get): install `chromium`"
    return "Chromium is not installed: run `python -m polyinstruct.report.chromium install` (make test does)"


def install() -> None:
    """apt-get install Debian's chromium when no Chromium is found and we are root; otherwise say why not."""
    if binary() is not None:
        return
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"chromium: {why_unavailable()}; the browser tests will skip", file=sys.stderr)
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], check=True, env=env)
    if binary() is None:
        raise RuntimeError(f"apt-get install {' '.join(PACKAGES)} left no chromium binary")


class ChromiumError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, width: int = 1400, height: int = 900, start_timeout: float = 60.0):
        executable = binary()
        if executable is None:
            raise ChromiumError(why_unavailable())
        self.width, self.height = width, height
        self.errors: list[str] = []
        self._profile = tempfile.mkdtemp(prefix="polyinstruct-chromium-")
        self._process = subprocess.Popen(
            [
                executable,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._loop = asyncio.new_event_loop()
        self._next_id = 0
        self._session = self._ws = None
        try:
            port = self._port(start_timeout)
            self._loop.run_until_complete(self._connect(port))
            self.call("Runtime.enable")
            self.call("Page.enable")
            self.call(
                "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
            )
        except BaseException:
            self.close()
            raise

    def _port(self, timeout: float) -> int:
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace")[-2000:]
                raise ChromiumError(f"chromium exited with {self._process.returncode}: {err}")
            if marker.is_file():
                lines = marker.read_text().splitlines()
                if lines and lines[0].strip().isdigit():
                    return int(lines[0])
            time.sleep(0.05)
        raise ChromiumError(f"chromium did not open its DevTools port within {timeout:.0f} s")

    async def _connect(self, port: int) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession()
        for _ in range(100):
            async with self._session.get(f"http://127.0.0.1:{port}/json/list") as response:
                pages = [t for t in await response.json() if t.get("type") == "page"]
            if pages:
                break
            await asyncio.sleep(0.05)
        else:
            raise ChromiumError("chromium opened no page")
        self._ws = await self._session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.errors.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.errors.append(f"console.{params['type']}: {args}")

    async def _call(self, method: str, params: dict, timeout: float) -> dict:
        self._next_id += 1
        ident = self._next_id
        await self._ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError(f"{method}: no answer within {timeout:.0f} s")
            message = await self._ws.receive(timeout=left)
            if message.type.name != "TEXT":
                raise ChromiumError(f"{method}: DevTools connection closed ({message.type.name})")
            data = json.loads(message.data)
            if data.get("id") == ident:
                if "error" in data:
                    raise ChromiumError(f"{method}: {data['error'].get('message')}")
                return data.get("result", {})
            self._event(data)

    def call(self, method: str, timeout: float = 60.0, **params) -> dict:
        """One DevTools command; its result."""
        return self._loop.run_until_complete(self._call(method, params, timeout))

    def evaluate(self, expression: str, timeout: float = 60.0):
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call(
            "Runtime.evaluate", timeout, expression=expression, returnByValue=True, awaitPromise=True, userGesture=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise ChromiumError(f"JavaScript error in {expression[:80]!r}: {text}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.02):
        """Poll until `expression` is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise ChromiumError(f"timed out after {timeout:.0f} s waiting for {expression!r}")
            time.sleep(interval)

    def open(self, url: str, ready: str | None = None, timeout: float = 30.0) -> None:
        """Navigate to `url` (a path is turned into a file:// URL) and wait for `ready` to be truthy."""
        if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]+:", url):
            path, _, fragment = url.partition("#")
            url = Path(path).resolve().as_uri() + (f"#{fragment}" if fragment else "")
        result = self.call("Page.navigate", timeout, url=url)
        if result.get("errorText"):
            raise ChromiumError(f"could not open {url}: {result['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout)
        if ready:
            self.wait_for(ready, timeout)

    def screenshot(self, path: str | os.PathLike, full_page: bool = False) -> Path:
        params = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": size["height"], "scale": 1}
            params["captureBeyondViewport"] = True
        data = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        from polyinstruct.io import atomic_path

        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
        return Path(path)

    def close(self) -> None:
        try:
            if self._ws is not None:
                self._loop.run_until_complete(self._ws.close())
            if self._session is not None:
                self._loop.run_until_complete(self._session.close())
        finally:
            self._ws = self._session = None
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._loop.close()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


READY = "document.documentElement.dataset.state === 'ready'"


def screenshot(index: str, out: str, fragment: str = "", width: int = 1400, height: int = 900) -> Path:
    """A screenshot of the answer browser at `index` (optionally at a `#fragment` view) once it has drawn."""
    with Chromium(width, height) as browser:
        browser.open(index + (f"#{fragment.lstrip('#')}" if fragment else ""), ready=READY)
        if browser.errors:
            raise ChromiumError(f"{index}: the page reported errors: {browser.errors}")
        return browser.screenshot(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="apt-get install chromium when missing (root)")
    shot = commands.add_parser("screenshot", help="a PNG of the answer browser")
    shot.add_argument("index", nargs="?", default=paths.BROWSE)
    shot.add_argument("out", nargs="?", default=paths.BROWSE_SCREENSHOT)
    shot.add_argument("--fragment", default="", help="a view, e.g. 'l=fr&r=0,2&w=1'")
    shot.add_argument("--if-available", action="store_true", help="skip (exit 0) when Chromium is missing")
    args = parser.parse_args(argv)
    if args.command == "install":
        install()
        return 0
    reason = why_unavailable() if binary() is None else None
    if reason:
        print(f"no screenshot: {reason}", file=sys.stderr)
        return 0 if args.if_available else 1
    print(screenshot(args.index, args.out, args.fragment))
    return 0


if __name__ == "__main__":
    sys.exit(main())
