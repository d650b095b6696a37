"""Drive a real headless Chromium over the DevTools protocol against a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


def _find_chromium() -> str | None:
    """The path of an installed Chromium (or Chrome) executable, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


CHROMIUM = _find_chromium()

# Modifier bits of Input.dispatchKeyEvent.
CTRL = 2
# Seconds to wait for a DevTools reply, and for a page to reach an awaited state.
REPLY_TIMEOUT = 10
WAIT_TIMEOUT = 15


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: Ctrl+C must stop pytest, not only uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """Run uvicorn with `app` in this event loop on a free 127.0.0.1 port; yield its base URL."""
    with socket.socket() as sock:
        # Binding port 0 ourselves and handing uvicorn the socket avoids a find-then-bind race.
        sock.bind(("127.0.0.1", 0))
        # log_config=None: leave the process's logging configuration (and pytest's capture) alone.
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)
        server = _Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():  # startup failed: surface uvicorn's exception (or its exit)
                    await task
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            await task


class CDP:
    """Chrome DevTools Protocol client over one browser websocket, attached to one tab."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.session: str | None = None
        self.events: list[dict[str, Any]] = []
        """Every event received so far, in order (e.g. Network.requestWillBeSent)."""

    async def read_forever(self) -> None:
        """Route replies to their callers and record events; runs until the socket closes."""
        try:
            async for raw in self._ws:
                message: dict[str, Any] = json.loads(raw)
                if "id" not in message:
                    self.events.append(message)
                elif (future := self._pending.get(message["id"])) and not future.done():
                    future.set_result(message)
        except ConnectionClosed:
            pass  # an abrupt close is the browser's to explain (exit status), not ours
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("DevTools connection closed"))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method (in the tab's session once attached) and return its result."""
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if self.session is not None and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        future = self._pending[msg_id] = asyncio.get_running_loop().create_future()
        try:
            await self._ws.send(json.dumps(message))
            async with asyncio.timeout(REPLY_TIMEOUT):
                reply = await future
        finally:
            del self._pending[msg_id]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    def event_params(self, method: str) -> list[dict[str, Any]]:
        """The params of every event named `method` received so far."""
        return [event["params"] for event in self.events if event["method"] == method]

    async def js(self, expression: str) -> Any:
        """Evaluate a JS expression in the page (awaiting promises); return its JSON value."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str) -> Any:
        """Poll a JS expression until it is truthy; return that value."""
        async with asyncio.timeout(WAIT_TIMEOUT):
            while not (value := await self.js(expression)):  # noqa: ASYNC110 (no event to await)
                await asyncio.sleep(0.05)
        return value

    async def click(self, selector: str) -> None:
        """Click with the mouse at the centre of the first element matching `selector`."""
        x, y = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def press(self, key: str, code: str, key_code: int, modifiers: int = 0) -> None:
        """Press and release one key, e.g. press("Enter", "Enter", 13, CTRL)."""
        # rawKeyDown (not keyDown) so that no character is typed: only the shortcut fires.
        for kind in ("rawKeyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                modifiers=modifiers,
            )

    async def type(self, text: str) -> None:
        """Type `text` into the focused element, as an input method would."""
        await self.send("Input.insertText", text=text)


@asynccontextmanager
async def chromium() -> AsyncIterator[CDP]:
    """Start headless Chromium that can reach only 127.0.0.1; yield a CDP client on a new tab."""
    if CHROMIUM is None:
        raise RuntimeError("no Chromium executable found")
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile:
        proc = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # the sandbox needs user namespaces, often missing in containers/root
            "--disable-gpu",
            "--disable-dev-shm-usage",  # /dev/shm is tiny in containers
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            # Every other host fails to resolve: the test sees any request that tries to leave.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--remote-debugging-port=0",  # Chromium picks a port, written to DevToolsActivePort
            f"--user-data-dir={profile}",
            "--window-size=1280,800",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # own process group, so cleanup can reach every child
        )
        closed = False
        try:
            port, path = await _devtools_endpoint(Path(profile), proc)
            async with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as ws:
                cdp = CDP(ws)
                reader = asyncio.create_task(cdp.read_forever())
                try:
                    target = await cdp.send("Target.createTarget", url="about:blank")
                    attached = await cdp.send(
                        "Target.attachToTarget", targetId=target["targetId"], flatten=True
                    )
                    cdp.session = attached["sessionId"]
                    for domain in ("Page", "Runtime", "Network", "Log"):
                        await cdp.send(f"{domain}.enable")
                    yield cdp
                    await cdp.send("Browser.close")
                    closed = True
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
        finally:
            await _stop(proc, grace=5 if closed else 0)


async def _devtools_endpoint(profile: Path, proc: asyncio.subprocess.Process) -> list[str]:
    """Wait for Chromium to write its DevTools port and browser websocket path."""
    port_file = profile / "DevToolsActivePort"
    async with asyncio.timeout(30):
        while len(words := _read_words(port_file)) < 2:
            if proc.returncode is not None:
                raise RuntimeError(f"chromium exited with status {proc.returncode}")
            await asyncio.sleep(0.05)
    return words[:2]


def _read_words(path: Path) -> list[str]:
    """The whitespace-separated words of a file that may not exist yet (none then)."""
    try:
        return path.read_text().split()
    except FileNotFoundError:
        return []


async def _stop(proc: asyncio.subprocess.Process, grace: float) -> None:
    """Give Chromium `grace` seconds to exit, then SIGTERM and at last SIGKILL its process group."""
    # After Browser.close it exits by itself; after a failure there is no point in waiting.
    for sig, seconds in ((None, grace), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if sig is not None:
            _signal_group(proc.pid, sig)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await proc.wait()
        if proc.returncode is not None:
            break
    # Its helpers are orphaned to PID 1 when it exits; kill any straggler and wait until init has
    # reaped them, so that nothing named chromium is left once the test ends.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            while _signal_group(proc.pid, signal.SIGKILL):  # noqa: ASYNC110 (no event either)
                await asyncio.sleep(0.05)


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Send `sig` to every process of a group; False when none is left (zombies count)."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True
