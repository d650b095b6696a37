"""One JSON log line per request, and no secret in any log."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import factories

LOGIN = """
mutation SignIn($login: String!, $password: String!) {
  login(input: {login: $login, password: $password}) { accessToken refreshToken errors { code } }
}
"""
REFRESH = """
mutation Renew($token: String!) {
  refreshToken(input: {refreshToken: $token}) { accessToken refreshToken errors { code } }
}
"""


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log lines captured so far, decoded."""
    return [
        orjson.loads(record.getMessage())
        for record in caplog.records
        if record.name == "marketgraph.requests"
    ]


async def test_each_request_logs_one_json_line(
    client: httpx.AsyncClient, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = await factories.create_user(engine, username="logged")
    caplog.set_level(logging.INFO, logger="marketgraph.requests")
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"login": "logged", "password": factories.PASSWORD}},
        headers={"X-Request-ID": "login-1"},
    )
    token = response.json()["data"]["login"]["accessToken"]
    await client.post(
        "/graphql",
        json={"query": "query Me { viewer { username } nope }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "me-1"},
    )
    login, me = request_lines(caplog)
    assert login["request_id"] == "login-1"
    assert (login["operation_type"], login["operation_name"]) == ("mutation", "SignIn")
    assert (login["user_id"], login["status"], login["error_codes"]) == (None, 200, [])
    assert login["cost"] == 0
    assert login["statements"] > 0
    assert login["duration_ms"] > 0
    assert me["request_id"] == "me-1"
    assert (me["operation_type"], me["operation_name"]) == ("query", "Me")
    # Not executed, so not measured; its statements loaded the viewer and charged a point.
    assert (me["user_id"], me["cost"], me["statements"]) == (user_id, None, 2)
    assert me["error_codes"] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_no_password_or_token_reaches_any_log(
    client: httpx.AsyncClient, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    await factories.create_user(engine, username="secretive")
    caplog.set_level(logging.DEBUG)
    signed = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"login": "secretive", "password": factories.PASSWORD}},
    )
    wrong = "a-wrong-password-to-look-for"
    await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"login": "secretive", "password": wrong}},
    )
    tokens = signed.json()["data"]["login"]
    renewed = await client.post(
        "/graphql", json={"query": REFRESH, "variables": {"token": tokens["refreshToken"]}}
    )
    new_tokens = renewed.json()["data"]["refreshToken"]
    await client.post(
        "/graphql",
        json={"query": "{ viewer { username } }"},
        headers={"Authorization": "Bearer not-a-real-token-to-look-for"},
    )
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert len(request_lines(caplog)) == 4
    secrets = [factories.PASSWORD, wrong, "not-a-real-token-to-look-for"]
    secrets += [tokens["accessToken"], tokens["refreshToken"]]
    secrets += [new_tokens["accessToken"], new_tokens["refreshToken"]]
    for secret in secrets:
        assert secret not in logged
