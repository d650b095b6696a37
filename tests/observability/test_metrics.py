"""/metrics: the counters move by exactly what was sent, in one process and across workers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import running_server
from tests.statements import StatementCounter

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FEED = "query Feed { markets(first: 3) { totalCount } }"
REGISTER = (
    'mutation Join { register(input: {username: "metered", email: "m@example.com",'
    ' password: "correct horse battery"}) { errors { code } } }'
)


async def scrape(http: httpx.AsyncClient) -> Samples:
    """Every sample of /metrics, by name and labels."""
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample grew between two scrapes."""
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_counters_move_by_exactly_what_was_sent(
    client: httpx.AsyncClient, statements: StatementCounter
) -> None:
    before = await scrape(client)
    statements.reset()
    for _ in range(3):
        await client.post("/graphql", json={"query": FEED})
    await client.post("/graphql", json={"query": REGISTER})
    await client.post("/graphql", json={"query": "query Broken { nope }"})
    await client.post("/graphql", content=b"{", headers={"Content-Type": "application/json"})
    sent_statements = statements.count
    after = await scrape(client)

    requests = "marketgraph_requests_total"
    assert moved(before, after, requests, operation_type="query", operation_name="Feed",
                 status="200") == 3  # fmt: skip
    assert moved(before, after, requests, operation_type="mutation", operation_name="Join",
                 status="200") == 1  # fmt: skip
    assert moved(before, after, requests, operation_type="query", operation_name="Broken",
                 status="200") == 1  # fmt: skip
    assert moved(before, after, requests, operation_type="unknown",
                 operation_name="anonymous", status="400") == 1  # fmt: skip
    errors = "marketgraph_errors_total"
    assert moved(before, after, errors, code="GRAPHQL_VALIDATION_FAILED") == 1
    assert moved(before, after, errors, code="BAD_REQUEST") == 1
    latency = "marketgraph_request_duration_seconds_count"
    assert moved(before, after, latency, operation_type="query", operation_name="Feed") == 3
    # Three feeds of 3 nodes; the mutation's payload has no connection.
    assert moved(before, after, "marketgraph_query_cost_nodes_count") == 4
    assert moved(before, after, "marketgraph_query_cost_nodes_sum") == 3 * 3
    assert moved(before, after, "marketgraph_sql_statements_per_request_count") == 6
    assert moved(before, after, "marketgraph_sql_statements_per_request_sum") == sent_statements
    assert ("marketgraph_db_pool_connections", frozenset({("state", "idle")})) in after


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_metrics_add_up_over_worker_processes(database_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "server"
    directory.mkdir()
    with running_server(database_url=database_url, workers=2, directory=directory) as server:
        # A new connection each time, so the requests spread over both workers.
        for number in range(12):
            async with httpx.AsyncClient(base_url=server.base_url) as fresh:
                response = await fresh.post(
                    "/graphql",
                    json={"query": FEED},
                    headers={"X-Request-ID": f"spread-{number}"},
                )
                assert response.status_code == 200
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            after = await scrape(http)
        log = server.output()
    requests = ("marketgraph_requests_total", frozenset(
        {("operation_type", "query"), ("operation_name", "Feed"), ("status", "200")}
    ))  # fmt: skip
    assert after[requests] == 12
    for number in range(12):
        assert f'"request_id":"spread-{number}"' in log
