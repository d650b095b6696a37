"""What staff do to accounts (setUserRole, setUserSuspended, grantCredits), and who sees what."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Role, User
from marketgraph.ids import to_global_id
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.locks import wait_until_blocked
from tests.sessions import login, row_counts, send, sign_in, viewer

SET_ROLE = """
mutation ($user: ID!, $role: Role!) {
  setUserRole(input: {user: $user, role: $role}) {
    user { id role } errors { code field message }
  }
}
"""
SET_SUSPENDED = """
mutation ($user: ID!, $suspended: Boolean!) {
  setUserSuspended(input: {user: $user, suspended: $suspended}) {
    user { id suspended } errors { code field message }
  }
}
"""
GRANT = """
mutation ($user: ID!, $amount: Int!) {
  grantCredits(input: {user: $user, amount: $amount}) {
    user { id balance ledger(first: 3) { edges { node { amount reason } } } }
    errors { code field message }
  }
}
"""
REFRESH = """
mutation ($token: String!) {
  refreshToken(input: {refreshToken: $token}) { accessToken errors { code } }
}
"""
LOGOUT = "mutation ($token: String!) { logout(input: {refreshToken: $token}) { ok } }"


async def set_role(client: httpx.AsyncClient, token: str | None, user: str, role: str) -> Any:
    return await send(client, token, SET_ROLE, {"user": user, "role": role})


async def set_suspended(
    client: httpx.AsyncClient, token: str | None, user: str, suspended: bool = True
) -> Any:
    return await send(client, token, SET_SUSPENDED, {"user": user, "suspended": suspended})


async def grant(client: httpx.AsyncClient, token: str | None, user: str, amount: int) -> Any:
    return await send(client, token, GRANT, {"user": user, "amount": amount})


def refusal(body: dict[str, Any]) -> str:
    """The code of a top-level refusal (the mutation did not run)."""
    assert body["data"] is None, body
    [error] = body["errors"]
    code: str = error["extensions"]["code"]
    return code


def payload_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    [payload] = body["data"].values()
    assert isinstance(payload, dict)
    return payload


def succeeded(body: dict[str, Any]) -> dict[str, Any]:
    """The changed user of a mutation that worked."""
    payload = payload_of(body)
    assert payload["errors"] == [], payload
    user: dict[str, Any] = payload["user"]
    return user


def user_errors(body: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    payload = payload_of(body)
    assert payload["user"] is None
    assert all(error["message"] for error in payload["errors"])
    return [(error["code"], error["field"]) for error in payload["errors"]]


def outcome(body: dict[str, Any]) -> str:
    """ "ok", a payload error code, or a top-level error code."""
    if "errors" in body:
        return refusal(body)
    errors = payload_of(body)["errors"]
    return "ok" if errors == [] else str(errors[0]["code"])


async def member(engine: AsyncEngine, username: str, *, role: Role = Role.MEMBER) -> str:
    """A user made straight in the database (no sign-in needed); returns the global ID."""
    return to_global_id("User", await factories.create_user(engine, username=username, role=role))


async def account_state(engine: AsyncEngine) -> list[tuple[str, Role, bool, int]]:
    """Every user's name, role, suspension and balance: what these mutations may change."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(User.username, User.role, User.suspended, User.balance).order_by(User.id)
        )
        return [(row.username, row.role, row.suspended, row.balance) for row in rows]


async def test_moderators_suspend_and_reinstate_members_only(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    moderator = await sign_in(client, engine, username="mod", role=Role.MODERATOR)
    plain = await member(engine, "plain")
    other_moderator = await member(engine, "other_mod", role=Role.MODERATOR)
    admin = await member(engine, "root", role=Role.ADMIN)

    assert succeeded(await set_suspended(client, moderator.access, plain))["suspended"] is True
    assert succeeded(await set_suspended(client, moderator.access, plain, False)) == {
        "id": plain,
        "suspended": False,
    }
    for staff in (other_moderator, admin, moderator.gid):
        assert refusal(await set_suspended(client, moderator.access, staff)) == "FORBIDDEN"
    assert [row[2] for row in await account_state(engine)] == [False] * 4


async def test_admins_suspend_anyone_but_themselves(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, username="root", role=Role.ADMIN)
    others = [
        await member(engine, "plain"),
        await member(engine, "mod", role=Role.MODERATOR),
        await member(engine, "other_admin", role=Role.ADMIN),
    ]

    for user in others:
        assert succeeded(await set_suspended(client, admin.access, user))["suspended"] is True

    assert refusal(await set_suspended(client, admin.access, admin.gid)) == "FORBIDDEN"
    assert (await viewer(client, admin.access))["suspended"] is False


async def test_only_admins_change_roles_and_never_their_own(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, username="root", role=Role.ADMIN)
    moderator = await sign_in(client, engine, username="mod", role=Role.MODERATOR)
    plain = await member(engine, "plain")
    other_admin = await member(engine, "other_admin", role=Role.ADMIN)

    assert refusal(await set_role(client, moderator.access, plain, "MODERATOR")) == "FORBIDDEN"
    assert refusal(await set_role(client, moderator.access, moderator.gid, "ADMIN")) == (
        "FORBIDDEN"
    )
    for role in ("MODERATOR", "ADMIN", "MEMBER"):
        assert succeeded(await set_role(client, admin.access, plain, role))["role"] == role
    assert succeeded(await set_role(client, admin.access, other_admin, "MODERATOR")) == {
        "id": other_admin,
        "role": "MODERATOR",
    }
    for role in ("MEMBER", "MODERATOR"):
        assert refusal(await set_role(client, admin.access, admin.gid, role)) == "FORBIDDEN"
    assert (await viewer(client, admin.access))["role"] == "ADMIN"


async def admins(engine: AsyncEngine) -> int:
    """Admins who can still act (not suspended)."""
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count()).where(User.role == Role.ADMIN, User.suspended.is_(False))
        )
    assert count is not None
    return count


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ann = await sign_in(client, engine, username="ann", role=Role.ADMIN)
    bea = await sign_in(client, engine, username="bea", role=Role.ADMIN)

    results = await asyncio.gather(
        set_role(client, ann.access, bea.gid, "MEMBER"),
        set_role(client, bea.access, ann.gid, "MEMBER"),
    )

    # Which refusal the loser gets is the next test's business.
    assert await admins(engine) == 1
    assert [outcome(body) for body in results].count("ok") == 1


ROUNDS = 6


@pytest.mark.parametrize("action", ["demote", "suspend"])
async def test_the_loser_of_two_admins_acting_on_each_other_is_told_last_admin(
    client: httpx.AsyncClient, engine: AsyncEngine, backend: str, action: str
) -> None:
    ann = await sign_in(client, engine, username="ann", role=Role.ADMIN)
    bea = await sign_in(client, engine, username="bea", role=Role.ADMIN)

    async def act(actor: Any, target: str) -> Any:
        if action == "demote":
            return await set_role(client, actor.access, target, "MEMBER")
        return await set_suspended(client, actor.access, target, True)

    # Whether the two lock in opposite orders depends on scheduling: race a few times.
    for _ in range(ROUNDS):
        async with engine.begin() as connection:
            await connection.execute(update(User).values(role=Role.ADMIN, suspended=False))
        async with engine.connect() as holder:
            # Hold both admins' rows, so the two actions start their transactions together.
            await holder.execute(update(User).values(display_name=User.display_name))
            race = asyncio.gather(act(ann, bea.gid), act(bea, ann.gid))
            await wait_until_blocked(engine, backend, waiting=2)
            await holder.commit()
            results = await race

        assert await admins(engine) == 1
        assert sorted(outcome(body) for body in results) == ["LAST_ADMIN", "ok"]


async def test_role_changes_apply_to_the_next_request_with_the_same_token(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, username="root", role=Role.ADMIN)
    rising = await sign_in(client, engine, username="rising")
    plain = await member(engine, "plain")
    assert refusal(await set_suspended(client, rising.access, plain)) == "FORBIDDEN"

    succeeded(await set_role(client, admin.access, rising.gid, "MODERATOR"))

    assert (await viewer(client, rising.access))["role"] == "MODERATOR"
    succeeded(await set_suspended(client, rising.access, plain))

    succeeded(await set_role(client, admin.access, rising.gid, "MEMBER"))

    assert refusal(await set_suspended(client, rising.access, plain, False)) == "FORBIDDEN"


async def test_a_suspended_user_may_sign_in_read_refresh_and_log_out_but_not_act(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, username="root", role=Role.ADMIN)
    moderator = await sign_in(client, engine, username="mod", role=Role.MODERATOR)
    plain = await member(engine, "plain")

    succeeded(await set_suspended(client, admin.access, moderator.gid))

    assert refusal(await set_suspended(client, moderator.access, plain)) == "FORBIDDEN"
    me = await viewer(client, moderator.access)
    assert (me["suspended"], me["email"], me["balance"]) == (True, "mod@example.com", 1_000)
    again = await login(client, "mod")
    body = await send(client, None, REFRESH, {"token": again.refresh})
    refreshed = body["data"]["refreshToken"]
    assert refreshed["errors"] == []
    assert refusal(await set_suspended(client, refreshed["accessToken"], plain)) == "FORBIDDEN"
    logged_out = await send(client, moderator.access, LOGOUT, {"token": moderator.refresh})
    assert logged_out == {"data": {"logout": {"ok": True}}}

    succeeded(await set_suspended(client, admin.access, moderator.gid, False))

    succeeded(await set_suspended(client, refreshed["accessToken"], plain))


async def test_granted_credits_arrive_with_a_grant_entry(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, username="root", role=Role.ADMIN)
    plain = await member(engine, "plain")

    succeeded(await grant(client, admin.access, plain, 1))
    user = succeeded(await grant(client, admin.access, plain, 1_000_000))

    assert user["balance"] == 1_001_001
    assert [edge["node"] for edge in user["ledger"]["edges"]] == [
        {"amount": 1_000_000, "reason": "GRANT"},
        {"amount": 1, "reason": "GRANT"},
        {"amount": 1_000, "reason": "SIGNUP_GRANT"},
    ]
    await assert_money_adds_up(engine)


async def test_bad_input_is_a_user_error_and_writes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    admin = await sign_in(client, engine, username="root", role=Role.ADMIN)
    plain_pk = await factories.create_user(engine, username="plain")
    plain = to_global_id("User", plain_pk)
    amount = ("INVALID_INPUT", ["input", "amount"])
    not_found = ("NOT_FOUND", ["input", "user"])
    strangers = [
        to_global_id("User", 999_999),
        to_global_id("Market", plain_pk),
        to_global_id("LedgerEntry", plain_pk),
        "garbage",
        "",
    ]
    before, counts = await account_state(engine), await row_counts(engine)

    for wrong in (0, 1_000_001, -5):
        assert user_errors(await grant(client, admin.access, plain, wrong)) == [amount]
    assert user_errors(await grant(client, admin.access, strangers[0], 0)) == [amount, not_found]
    for stranger in strangers:
        assert user_errors(await grant(client, admin.access, stranger, 10)) == [not_found]
        assert user_errors(await set_role(client, admin.access, stranger, "ADMIN")) == [not_found]
        assert user_errors(await set_suspended(client, admin.access, stranger)) == [not_found]

    assert await account_state(engine) == before
    assert await row_counts(engine) == counts


PRIVATE = """
query ($id: ID!) {
  users { edges { node { username email balance ledger { totalCount } } } }
  node(id: $id) { ... on LedgerEntry { amount reason user { username } } }
}
"""


async def test_email_balance_and_ledger_are_the_owners_and_admins_only(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    tokens = {
        "alice": (await sign_in(client, engine, username="alice")).access,
        "bob": (await sign_in(client, engine, username="bob")).access,
        "mod": (await sign_in(client, engine, username="mod", role=Role.MODERATOR)).access,
        "root": (await sign_in(client, engine, username="root", role=Role.ADMIN)).access,
    }
    ledger = await send(client, tokens["alice"], "{ viewer { ledger { edges { node { id } } } } }")
    [alices_grant] = ledger["data"]["viewer"]["ledger"]["edges"]
    entry = {"amount": 1_000, "reason": "SIGNUP_GRANT", "user": {"username": "alice"}}

    def private(name: str) -> dict[str, Any]:
        return {
            "username": name,
            "email": f"{name}@example.com",
            "balance": 1_000,
            "ledger": {"totalCount": 1},
        }

    def hidden(name: str) -> dict[str, Any]:
        return {"username": name, "email": None, "balance": None, "ledger": None}

    everyone = ["root", "mod", "bob", "alice"]
    for asker in [None, "alice", "bob", "mod", "root"]:
        body = await send(
            client,
            None if asker is None else tokens[asker],
            PRIVATE,
            {"id": alices_grant["node"]["id"]},
        )

        sees_all = asker == "root"
        expected_users = [
            private(name) if sees_all or name == asker else hidden(name) for name in everyone
        ]
        assert body == {
            "data": {
                "users": {"edges": [{"node": user} for user in expected_users]},
                "node": entry if asker in ("alice", "root") else None,
            }
        }, asker
