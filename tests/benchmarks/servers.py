"""Processes the benchmark runs: databases, the real CLI, both servers, and their measurement."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.benchmarks.floor import URL_VARIABLE
from tests.benchmarks.load import Balancer, Connection, Window

ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "benchmark-secret-of-at-least-thirty-two-bytes"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
WORKER_READY = "Application startup complete."
# What `marketgraph serve` hands uvicorn.run(): loop and http "auto" pick uvloop and httptools
# when installed; log_level info with the access log on (serve has no switch to turn it off).
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UVICORN_OPTIONS = ("--loop", "uvloop", "--http", "httptools", "--log-level", "info")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def base_environment(database_url: str, directory: Path) -> dict[str, str]:
    """The environment of every marketgraph process: this database, fixed secret, no cost limit
    and no rate limit (the floor has neither; one address sends every request)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MARKETGRAPH_")}
    env |= {
        "MARKETGRAPH_DATABASE_URL": database_url,
        "MARKETGRAPH_JWT_SECRET": JWT_SECRET,
        "MARKETGRAPH_DATA_DIR": str(directory / "data"),
        "MARKETGRAPH_MAX_COST": "0",
        "MARKETGRAPH_RATE_LIMIT_POINTS": "0",
        # Tokens are made once per backend and reused across worker counts.
        "MARKETGRAPH_ACCESS_TOKEN_MINUTES": "120",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    # The execution path under test is the caller's choice, to compare both (graph/compiled).
    path = os.environ.get("MARKETGRAPH_COMPILED_EXECUTION")
    if path is not None:
        env["MARKETGRAPH_COMPILED_EXECUTION"] = path
    return env


def run_cli(args: list[str], env: Mapping[str, str], directory: Path) -> str:
    """`python -m marketgraph <args>` to completion (cwd away from the checkout's .env)."""
    done = subprocess.run(
        [sys.executable, "-m", "marketgraph", *args],
        env=dict(env),
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"marketgraph {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


@dataclass(slots=True)
class Server:
    """A running uvicorn (GraphQL or floor), its port and its log."""

    name: str
    port: int
    workers: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def worker_processes(self) -> list[int]:
        """The pids that serve requests: the server itself, or its worker children."""
        if self.workers == 1:
            return [self.process.pid]
        return [pid for pid in children(self.process.pid) if "resource_tracker" not in cmdline(pid)]

    def all_processes(self) -> list[int]:
        """The server and every process under it."""
        return process_tree(self.process.pid)


def process_tree(root: int) -> list[int]:
    """A process and all its descendants."""
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children(pid))
    return found


def postgres_processes(pgdata: Path) -> list[int]:
    """The postmaster (first line of postmaster.pid) and every backend under it."""
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return process_tree(postmaster)


def children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                # The command name may hold spaces and parentheses: fields follow the last ")".
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def cmdline(pid: int) -> str:
    """A process's command line, spaces between arguments ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat; [0] here is field 3 (state).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def running(
    name: str, command: list[str], env: Mapping[str, str], workers: int, directory: Path
) -> Iterator[Server]:
    """Start a server in its own process group, wait until every worker answers, always stop it."""
    port = free_port()
    command = [*command, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log = directory / f"{name}-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=directory,
            start_new_session=True,
        )
    server = Server(name, port, workers, process, log)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        stop(process)


GRAPHQL_COMMAND = [sys.executable, "-m", "marketgraph", "serve"]
FLOOR_COMMAND = [
    sys.executable,
    "-m",
    "uvicorn",
    "tests.benchmarks.floor:app",
    *UVICORN_OPTIONS,
]


def floor_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The floor reads the same database the GraphQL server does."""
    return {**env, URL_VARIABLE: env["MARKETGRAPH_DATABASE_URL"]}


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"{server.name} exited with {server.process.returncode} while starting:\n"
                    f"{server.output()}"
                )
            if server.output().count(WORKER_READY) >= server.workers:
                with suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        return
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} was not ready in {STARTUP_SECONDS} s:\n{server.output()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to the whole process group after a timeout."""
    group = process.pid
    with suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    deadline = time.monotonic() + STOP_SECONDS
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(group):
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(slots=True)
class Usage:
    """The server's side of a timed window."""

    cpu_seconds: float = 0.0
    database_cpu_seconds: float | None = None  # PostgreSQL's processes; None for SQLite
    peak_rss_mib: list[float] = field(default_factory=list)  # VmHWM of each worker
    worker_cpu_seconds: list[float] = field(default_factory=list)  # how the load was shared


class ServerProbe(Window):
    """Resets each worker's peak RSS and CPU baseline when the window starts; reads them at end."""

    def __init__(self, server: Server, database: Callable[[], list[int]] | None = None) -> None:
        self.server = server
        self.database = database
        self.usage = Usage()
        self._cpu_start = self._database_start = 0.0
        self._workers_start: list[float] = []

    def _cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.server.all_processes())

    def _database_cpu(self) -> float:
        return 0.0 if self.database is None else sum(cpu_seconds(p) for p in self.database())

    def started(self) -> None:
        for pid in self.server.worker_processes():
            with suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        self._cpu_start = self._cpu()
        self._database_start = self._database_cpu()
        self._workers_start = [cpu_seconds(pid) for pid in self.server.worker_processes()]

    def ended(self) -> None:
        self.usage.cpu_seconds = self._cpu() - self._cpu_start
        self.usage.worker_cpu_seconds = [
            cpu_seconds(pid) - start
            for pid, start in zip(self.server.worker_processes(), self._workers_start, strict=False)
        ]
        if self.database is not None:
            self.usage.database_cpu_seconds = self._database_cpu() - self._database_start
        self.usage.peak_rss_mib = [peak_rss_mib(pid) for pid in self.server.worker_processes()]


def peak_rss_mib(pid: int) -> float:
    """VmHWM of a process (its peak resident set since the last reset), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def settle(servers: Sequence[Server], *, idle_cpu: float = 0.02, limit: float = 30.0) -> None:
    """Wait until the servers are idle: requests abandoned by the last run have finished.

    Idle means under `idle_cpu` CPU seconds over 0.25 s; gives up after `limit` seconds.
    """
    deadline = time.monotonic() + limit
    previous = sum(cpu_seconds(p) for server in servers for p in server.all_processes())
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = sum(cpu_seconds(p) for server in servers for p in server.all_processes())
        if now - previous < idle_cpu:
            return
        previous = now


def connection_owners(server: Server, client_ports: Sequence[int]) -> list[int | None]:
    """Which worker (index into worker_processes) accepted each client connection, if any yet.

    The server side of a connection to 127.0.0.1:<server port> from <client port> is a socket
    inode in /proc/net/tcp; the worker holding that inode among its file descriptors owns it.
    """
    wanted = set(client_ports)
    inode_of: dict[int, str] = {}
    with suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if local_port == server.port and remote_port in wanted:
                inode_of[remote_port] = f"socket:[{fields[9]}]"
    owner_of: dict[str, int] = {}
    for index, pid in enumerate(server.worker_processes()):
        fd_dir = Path(f"/proc/{pid}/fd")
        with suppress(OSError):
            for fd in fd_dir.iterdir():
                with suppress(OSError):
                    owner_of[os.readlink(fd)] = index
    return [owner_of.get(inode_of.get(port, "")) for port in client_ports]


def balancer(server: Server, host: str, attempts: int = 100) -> Balancer | None:
    """Re-open connections until each worker holds its share (None with one worker).

    All workers accept from one listening socket, and whichever wakes first may take every
    connection a client opens at once: with a few keep-alive connections one worker would
    serve the whole load. Dealing them evenly measures what the workers can do together.
    """
    if server.workers < 2:
        return None

    async def balance(connections: list[Connection]) -> list[Connection]:
        share = -(-len(connections) // server.workers)
        for _ in range(attempts):
            owners = await _owners(server, connections)
            load = Counter(owner for owner in owners if owner is not None)
            surplus = [i for i, owner in enumerate(owners) if owner is None or load[owner] > share]
            if not surplus:
                return connections
            index = surplus[0]
            await connections[index].close()
            connections[index] = await Connection.open(host, server.port)
        return connections

    return balance


async def _owners(server: Server, connections: list[Connection]) -> list[int | None]:
    """Owners of every connection, waiting briefly for the kernel's accept to reach a worker."""
    owners: list[int | None] = []
    for _ in range(50):
        owners = connection_owners(server, [c.local_port for c in connections])
        if None not in owners:
            break
        await asyncio.sleep(0.01)
    return owners
