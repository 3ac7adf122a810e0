"""Headless Chromium driven over the DevTools protocol on a pipe: open a page, run script, click like a mouse.

``--dump-dom`` (tests/test_browser.py) shows the page once it is loaded; a test that zooms,
clicks and times needs to talk to the page while it runs. Chromium reads protocol commands on
file descriptor 3 and writes replies on 4 (``--remote-debugging-pipe``): no port, no
websocket, no network. Every session gets a fresh profile and networking stays off.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars")


class Chromium:
    """One headless browser with one page; use as a context manager.

    Examples
    --------
    >>> with Chromium("/usr/bin/chromium", tmp_path / "profile") as b:   # doctest: +SKIP
    ...     b.open(path.as_uri())
    ...     b.evaluate("document.title")
    """

    def __init__(self, binary: str, profile: Path, *, width: int = 1400, height: int = 900):
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        # bash (dash takes one-digit descriptors only) puts the pipe ends on the descriptors Chromium
        # expects, then becomes Chromium
        shell = ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{to_child} 4>&{from_child}', binary, *FLAGS,
                 f"--user-data-dir={profile}", "--remote-debugging-pipe", f"--window-size={width},{height}", "about:blank"]
        self.proc = subprocess.Popen(shell, pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self._session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        self.call("Page.enable", page=True)
        self.call("Runtime.enable", page=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise EOFError(f"Chromium closed the pipe (exit code {self.proc.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, *, page: bool = False, timeout: float = 120, **params) -> dict:
        """Send one protocol command (to the page's session with ``page``) and wait for its reply."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if page:
            message["sessionId"] = self._session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str, *, timeout: float = 120):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", page=True, timeout=timeout, expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, *, ready: str = "data-netdiag-painted-ms", timeout: float = 120) -> None:
        """Load ``url`` and wait until ``<html>`` has the attribute ``ready``."""
        self.call("Page.navigate", page=True, url=url)
        self.evaluate(f"""new Promise((done, fail) => {{
            const until = Date.now() + {int(timeout * 1000)};
            const look = () => document.documentElement && document.documentElement.hasAttribute('{ready}') ? done(true)
                : Date.now() > until ? fail(new Error('not ready')) : setTimeout(look, 50);
            look(); }})""", timeout=timeout + 5)

    def click(self, x: float, y: float) -> None:
        """A left click at the viewport point (x, y), pressed and released as a mouse does."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", page=True, type=kind, x=x, y=y, button="left", clickCount=1)

    def console_errors(self) -> list[str]:
        """Uncaught exceptions and console errors seen so far."""
        out = []
        for e in self.events:
            if e.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(e["params"]["exceptionDetails"])[:500])
            elif e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error":
                out.append(json.dumps(e["params"]["args"])[:500])
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError, EOFError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)
