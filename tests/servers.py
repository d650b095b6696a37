"""A real `marketgraph serve` process for tests that must cross a socket and worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# Shared by every worker, so a token signed by one is accepted by the others.
JWT_SECRET = "storm-test-secret-of-at-least-32-bytes"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
# uvicorn logs this once per worker when its application is ready to serve.
WORKER_READY = "Application startup complete."


@dataclass(frozen=True, slots=True)
class Server:
    """A running server: where to reach it and where its output goes."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """Everything the server printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(
    *,
    database_url: str,
    workers: int,
    directory: Path,
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`marketgraph serve` over a migrated database, ready on every worker; stopped afterwards.

    The server gets its own process group, so that whatever it spawns can be checked for and,
    if it outlives a SIGTERM, killed without touching anything else.
    """
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("MARKETGRAPH_")}
    env |= {
        "MARKETGRAPH_DATABASE_URL": database_url,
        "MARKETGRAPH_JWT_SECRET": JWT_SECRET,
        "MARKETGRAPH_DATA_DIR": str(directory / "data"),
        "PYTHONUNBUFFERED": "1",
        **(settings or {}),
    }
    command = [sys.executable, "-m", "marketgraph", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    log = directory / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=directory,  # away from the checkout's .env
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(server, workers)
        yield server
    finally:
        stopped = _stop(process)
    assert stopped, f"the server ignored SIGTERM for {STOP_SECONDS} s:\n{server.output()}"


def _wait_until_ready(server: Server, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(base_url=server.base_url, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"the server exited with {server.process.returncode} while starting:\n"
                    f"{server.output()}"
                )
            if server.output().count(WORKER_READY) >= workers and _answers(http):
                return
            time.sleep(0.1)
    pytest.fail(f"the server was not ready within {STARTUP_SECONDS} s:\n{server.output()}")


def _answers(http: httpx.Client) -> bool:
    try:
        return all(http.get(path).status_code == 200 for path in ("/healthz", "/readyz"))
    except httpx.TransportError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM, then SIGKILL to the whole group; whether SIGTERM alone was enough."""
    group = process.pid
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
        graceful = _group_gone(group, within=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        graceful = False
    if not graceful:
        _kill_group(group)
        process.wait(timeout=STOP_SECONDS)
        if not _group_gone(group, within=STOP_SECONDS):
            raise AssertionError(f"processes of the server's group {group} survived SIGKILL")
    return graceful


def _kill_group(group: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def _group_gone(group: int, *, within: float) -> bool:
    deadline = time.monotonic() + within
    while _group_alive(group):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _group_alive(group: int) -> bool:
    """Whether a live (not zombie) process is left in the group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True
    # On Linux, look closer: orphans that a container's init never reaps stay as zombies,
    # which kill(0) still finds although nothing is left running.
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            return True
    return False
