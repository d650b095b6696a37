"""One record per GraphQL request: a JSON log line and the metrics, written when it is answered."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import orjson

from graph.observability.metrics import COST, ERRORS, LATENCY, REQUESTS, STATEMENTS

logger = logging.getLogger("marketgraph.requests")

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
MAX_OPERATION_NAMES = 500
_seen_names: set[str] = set()


@dataclass(slots=True)
class RequestRecord:
    """What one request did; filled in as the endpoint learns it."""

    request_id: str
    operation_type: str = "unknown"  # query, mutation, or unknown when it never got that far
    operation_name: str | None = None
    user_id: int | None = None
    cost: int | None = None
    statements: int = 0
    status: int = 0
    duration: float = 0.0
    error_codes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The log line: JSON, without variables, tokens or anything else a client sent."""
        return orjson.dumps(
            {
                "event": "graphql_request",
                "request_id": self.request_id,
                "operation_type": self.operation_type,
                "operation_name": self.operation_name,
                "user_id": self.user_id,
                "cost": self.cost,
                "statements": self.statements,
                "status": self.status,
                "duration_ms": round(self.duration * 1000, 2),
                "error_codes": self.error_codes,
            }
        ).decode()


def operation_label(name: str | None) -> str:
    """A bounded label for an operation name: clients choose names, Prometheus pays per label."""
    if name is None:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "invalid"
    if name not in _seen_names:
        if len(_seen_names) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_names.add(name)
    return name


def publish(record: RequestRecord) -> None:
    """Logs the record and adds it to the metrics."""
    logger.info(record.line())
    name = operation_label(record.operation_name)
    REQUESTS.labels(record.operation_type, name, str(record.status)).inc()
    LATENCY.labels(record.operation_type, name).observe(record.duration)
    STATEMENTS.observe(record.statements)
    if record.cost is not None:
        COST.observe(record.cost)
    for code in record.error_codes:
        ERRORS.labels(code).inc()
