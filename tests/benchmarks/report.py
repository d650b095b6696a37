"""Results: one record per (backend, workers, scenario, concurrency), a table and a JSON file."""

from __future__ import annotations

import math
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from tests.benchmarks.load import LoadResult
from tests.benchmarks.servers import Usage


@dataclass(frozen=True, slots=True)
class Measurement:
    """One server under one load."""

    requests: int
    errors: int
    rps: float
    rps_little: float  # concurrency / mean latency; close to rps when the window was long enough
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    client_cpu_share: float  # the load client's CPU over the window, fraction of one core
    server_cpu_ms_per_request: float  # every server process together
    database_cpu_ms_per_request: float | None  # PostgreSQL's processes (None on SQLite)
    peak_rss_mib_per_worker: list[float]
    worker_cpu_share: list[float]  # each worker's part of the workers' CPU time (sums to 1)
    first_error: str | None

    @classmethod
    def of(cls, result: LoadResult, usage: Usage) -> Measurement:
        return cls(
            requests=result.requests,
            errors=result.errors,
            rps=result.throughput,
            rps_little=result.little_throughput,
            seconds=result.seconds,
            p50_ms=result.percentile(0.50) * 1000,
            p95_ms=result.percentile(0.95) * 1000,
            p99_ms=result.percentile(0.99) * 1000,
            client_cpu_share=result.client_cpu_share,
            server_cpu_ms_per_request=(
                usage.cpu_seconds * 1000 / result.requests if result.requests else math.nan
            ),
            database_cpu_ms_per_request=(
                None
                if usage.database_cpu_seconds is None or not result.requests
                else usage.database_cpu_seconds * 1000 / result.requests
            ),
            peak_rss_mib_per_worker=[round(value, 1) for value in usage.peak_rss_mib],
            worker_cpu_share=[
                round(value / sum(usage.worker_cpu_seconds), 3)
                for value in usage.worker_cpu_seconds
                if sum(usage.worker_cpu_seconds) > 0
            ],
            first_error=result.first_error,
        )


@dataclass(slots=True)
class Record:
    """A scenario at one concurrency on one server configuration, with its floor if it has one."""

    backend: str
    workers: int
    scenario: str
    title: str
    concurrency: int
    graphql: Measurement | None = None
    floor: Measurement | None = None
    check: str = ""  # how the GraphQL and floor responses compared

    @property
    def ratios(self) -> dict[str, float] | None:
        """GraphQL / floor: throughput (below 1 = slower) and latency (above 1 = slower)."""
        if self.graphql is None or self.floor is None or not self.floor.rps:
            return None
        return {
            "throughput": self.graphql.rps / self.floor.rps,
            "p50": self.graphql.p50_ms / self.floor.p50_ms,
            "p95": self.graphql.p95_ms / self.floor.p95_ms,
        }

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratios"] = self.ratios
        return data


@dataclass(slots=True)
class Run:
    """Everything one invocation measured, and on what."""

    settings: dict[str, Any]
    machine: dict[str, Any] = field(default_factory=lambda: machine())
    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "machine": self.machine,
            "notes": self.notes,
            "records": [record.as_json() for record in self.records],
        }


def machine() -> dict[str, Any]:
    """The facts a reader needs to weigh the absolute numbers."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": load_average(),
    }


def load_average() -> str:
    """1, 5 and 15 minute load averages (other work on the machine skews absolute numbers)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def write_json(run: Run, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(run.as_json(), option=orjson.OPT_INDENT_2))


def _num(value: float, digits: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _pair(graphql: float | None, floor: float | None, digits: int = 1) -> str:
    first = "-" if graphql is None else _num(graphql, digits)
    return first if floor is None else f"{first} / {_num(floor, digits)}"


def _split(measurement: Measurement | None) -> str | None:
    if measurement is None or len(measurement.worker_cpu_share) < 2:
        return None
    return "+".join(f"{value * 100:.0f}" for value in measurement.worker_cpu_share)


def _rss(measurement: Measurement | None) -> str | None:
    if measurement is None or not measurement.peak_rss_mib_per_worker:
        return None
    return "+".join(f"{value:.0f}" for value in measurement.peak_rss_mib_per_worker)


COLUMNS = (
    "backend",
    "W",
    "scenario",
    "C",
    "GraphQL req/s",
    "floor req/s",
    "thr ratio",
    "p50 ms (GQL / floor)",
    "p50 ratio",
    "p95 ms (GQL / floor)",
    "p95 ratio",
    "errors",
    "client CPU % (GQL / floor)",
    "server CPU ms/req (GQL / floor)",
    "PG CPU ms/req (GQL / floor)",
    "peak RSS MiB/worker (GQL / floor)",
    "CPU split % by worker (GQL / floor)",
    "same JSON",
)

CHECKS = {"identical bytes": "bytes", "no floor": "-"}


def rows(run: Run) -> list[list[str]]:
    """The table's cells, one list per record."""
    table = []
    for record in run.records:
        g, f, ratios = record.graphql, record.floor, record.ratios
        if g is None:
            table.append(
                [record.backend, str(record.workers), record.scenario, str(record.concurrency)]
                + [record.check]
                + [""] * (len(COLUMNS) - 5)
            )
            continue
        rss_g, rss_f = _rss(g), _rss(f)
        table.append(
            [
                record.backend,
                str(record.workers),
                record.scenario,
                str(record.concurrency),
                _num(g.rps),
                "-" if f is None else _num(f.rps),
                "-" if ratios is None else f"{ratios['throughput']:.2f}",
                _pair(g.p50_ms, None if f is None else f.p50_ms, 2),
                "-" if ratios is None else f"{ratios['p50']:.2f}",
                _pair(g.p95_ms, None if f is None else f.p95_ms, 2),
                "-" if ratios is None else f"{ratios['p95']:.2f}",
                str(g.errors) if f is None else f"{g.errors} / {f.errors}",
                _pair(g.client_cpu_share * 100, None if f is None else f.client_cpu_share * 100, 0),
                _pair(
                    g.server_cpu_ms_per_request,
                    None if f is None else f.server_cpu_ms_per_request,
                    2,
                ),
                "-"
                if g.database_cpu_ms_per_request is None
                else _pair(
                    g.database_cpu_ms_per_request,
                    None if f is None else f.database_cpu_ms_per_request,
                    2,
                ),
                (rss_g or "-") if rss_f is None else f"{rss_g} / {rss_f}",
                " / ".join(part for part in (_split(g), _split(f)) if part) or "-",
                CHECKS.get(record.check, record.check),
            ]
        )
    return table


def print_table(run: Run, console: Console | None = None) -> None:
    console = console or Console(width=220)
    table = Table(title="GraphQL server vs hand-written-SQL floor (ratios are GraphQL / floor)")
    for name in COLUMNS:
        table.add_column(name, justify="left" if name in ("backend", "scenario") else "right")
    for cells in rows(run):
        table.add_row(*cells)
    console.print(table)
    for note in run.notes:
        console.print(f"- {note}")


def markdown(run: Run) -> str:
    """The same table as Markdown, for the README."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(run)]
    return "\n".join(lines) + "\n"
