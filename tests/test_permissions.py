"""The permission matrix: every mutation, called by every kind of caller, over HTTP.

One row per mutation (some twice, on targets that differ in who owns them or what rank they
hold), one column per caller; each cell is what the caller gets: OK, a top-level FORBIDDEN, or
a top-level UNAUTHENTICATED. A refusal writes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import MarketStatus, Role
from graph.relay import to_global_id
from tests import factories
from tests.invariants import assert_money_adds_up
from tests.sessions import (
    ANONYMOUS,
    OK,
    Caller,
    Session,
    database_state,
    log_in,
    outcome,
    send,
    sign_in,
    suspend,
)

F, U = "FORBIDDEN", "UNAUTHENTICATED"

INPUT_TYPES = {
    "register": "RegisterInput",
    "login": "LoginInput",
    "refreshToken": "RefreshTokenInput",
    "logout": "LogoutInput",
    "createMarket": "CreateMarketInput",
    "updateMarket": "UpdateMarketInput",
    "closeMarket": "CloseMarketInput",
    "resolveMarket": "ResolveMarketInput",
    "cancelMarket": "CancelMarketInput",
    "placeStake": "PlaceStakeInput",
    "addComment": "AddCommentInput",
    "deleteComment": "DeleteCommentInput",
    "setUserRole": "SetUserRoleInput",
    "setUserSuspended": "SetUserSuspendedInput",
    "grantCredits": "GrantCreditsInput",
}
_names = itertools.count(1)


def document(field: str) -> str:
    """The mutation `field`, asking only for its payload's errors."""
    return f"mutation ($i: {INPUT_TYPES[field]}!) {{ {field}(input: $i) {{ errors {{ code }} }} }}"


@dataclass(frozen=True, slots=True)
class World:
    """The data a row of the matrix acts on."""

    client: httpx.AsyncClient
    engine: AsyncEngine
    owner: int
    caller: Caller

    async def market(self, status: MarketStatus = MarketStatus.OPEN) -> tuple[str, str]:
        """A fresh market of the owner's with a stake of theirs; its ID and first outcome's."""
        market_id, (yes, _) = await factories.create_market(
            self.engine, creator_id=self.owner, status=status
        )
        await factories.stake(
            self.engine, user_id=self.owner, market_id=market_id, outcome_id=yes, amount=5
        )
        return to_global_id("Market", market_id), to_global_id("Outcome", yes)

    async def user(self, role: Role = Role.MEMBER) -> str:
        """A fresh user's global ID."""
        return to_global_id("User", await factories.create_user(self.engine, role=role))

    async def own_id(self) -> str:
        """The caller's own global ID (a stranger's when anonymous)."""
        return self.caller.gid if isinstance(self.caller, Session) else await self.user()

    async def spare_session(self) -> Session:
        """Another session: of the caller's own account, or a stranger's when anonymous."""
        if isinstance(self.caller, Session):
            return await log_in(self.client, self.engine, self.caller.user_id)
        return await log_in(self.client, self.engine, await factories.create_user(self.engine))


Variables = Callable[[World], Awaitable[dict[str, Any]]]


async def _register(world: World) -> dict[str, Any]:
    name = f"newcomer_{next(_names)}"
    return {"username": name, "email": f"{name}@example.com", "password": "long enough pw"}


async def _login(world: World) -> dict[str, Any]:
    name = f"returning_{next(_names)}"
    await factories.create_user(world.engine, username=name)
    return {"login": name, "password": factories.PASSWORD}


async def _refresh(world: World) -> dict[str, Any]:
    return {"refreshToken": (await world.spare_session()).refresh}


async def _create(world: World) -> dict[str, Any]:
    closes = datetime.now(UTC) + timedelta(days=3)
    return {
        "question": "Will the tram run by May?",
        "closesAt": closes.isoformat(),
        "outcomes": ["Yes", "No"],
    }


async def _edit(world: World, change: dict[str, str]) -> dict[str, Any]:
    market, _ = await world.market()
    return {"id": market, **change}


async def _resolve(world: World) -> dict[str, Any]:
    market, winner = await world.market(MarketStatus.CLOSED)
    return {"id": market, "outcome": winner}


async def _stake(world: World) -> dict[str, Any]:
    _, outcome_id = await world.market()
    return {"outcome": outcome_id, "amount": 10}


async def _comment(world: World) -> dict[str, Any]:
    market, _ = await world.market()
    return {"market": market, "body": "Interesting."}


async def _delete_comment(world: World) -> dict[str, Any]:
    market_id, _ = await factories.create_market(world.engine, creator_id=world.owner)
    comment = await factories.comment(
        world.engine, market_id=market_id, author_id=world.owner, body="Mine."
    )
    return {"id": to_global_id("Comment", comment)}


async def _suspend(world: World, target: str) -> dict[str, Any]:
    return {"user": target, "suspended": True}


_CHANGES: dict[str, Any] = {"role": "MODERATOR", "suspended": True, "amount": 10}


async def _target(world: World, what: str, role: Role = Role.MEMBER) -> dict[str, Any]:
    return {"user": await world.user(role), what: _CHANGES[what]}


async def _own(world: World, what: str) -> dict[str, Any]:
    return {"user": await world.own_id(), what: _CHANGES[what]}


async def _description(world: World) -> dict[str, Any]:
    return await _edit(world, {"description": "New detail."})


async def _question(world: World) -> dict[str, Any]:
    return await _edit(world, {"question": "Will the tram run by June?"})


async def _market(world: World) -> dict[str, Any]:
    return await _edit(world, {})


async def _role_of_member(world: World) -> dict[str, Any]:
    return await _target(world, "role")


async def _own_role(world: World) -> dict[str, Any]:
    return await _own(world, "role")


async def _suspend_member(world: World) -> dict[str, Any]:
    return await _target(world, "suspended")


async def _suspend_moderator(world: World) -> dict[str, Any]:
    return await _target(world, "suspended", Role.MODERATOR)


async def _suspend_self(world: World) -> dict[str, Any]:
    return await _own(world, "suspended")


async def _grant(world: World) -> dict[str, Any]:
    return await _target(world, "amount")


CALLERS = ("anonymous", "suspended", "member", "owner", "moderator", "admin")
# fmt: off
# Aligned as a table on purpose: one row per mutation (on which target), one column per caller.
# "owner" created the market, its stake and the comment the mutations act on, and is a member;
# "suspended" is that owner, suspended after signing in: suspension outweighs ownership and
# applies to the very next request. A target "of themself" is the caller's own account.
# Columns: an(onymous), su(spended owner), me(mber), ow(ner), mo(derator), ad(min).
MATRIX: list[tuple[str, Variables, tuple[str, ...]]] = [
    # mutation (target)                   variables              an  su  me  ow  mo  ad
    ("register",                          _register,            (OK, F , OK, OK, OK, OK)),
    ("login",                             _login,               (OK, OK, OK, OK, OK, OK)),
    ("refreshToken",                      _refresh,             (OK, OK, OK, OK, OK, OK)),
    ("logout",                            _refresh,             (OK, OK, OK, OK, OK, OK)),
    ("createMarket",                      _create,              (U , F , OK, OK, OK, OK)),
    ("updateMarket description",          _description,         (U , F , F , OK, OK, OK)),
    ("updateMarket question",             _question,            (U , F , F , OK, F , F )),
    ("closeMarket",                       _market,              (U , F , F , OK, OK, OK)),
    ("resolveMarket",                     _resolve,             (U , F , F , OK, OK, OK)),
    ("cancelMarket",                      _market,              (U , F , F , OK, OK, OK)),
    ("placeStake",                        _stake,               (U , F , OK, OK, OK, OK)),
    ("addComment",                        _comment,             (U , F , OK, OK, OK, OK)),
    ("deleteComment",                     _delete_comment,      (U , F , F , OK, OK, OK)),
    ("setUserRole of a member",           _role_of_member,      (U , F , F , F , F , OK)),
    ("setUserRole of themself",           _own_role,            (U , F , F , F , F , F )),
    ("setUserSuspended of a member",      _suspend_member,      (U , F , F , F , OK, OK)),
    ("setUserSuspended of a moderator",   _suspend_moderator,   (U , F , F , F , F , OK)),
    ("setUserSuspended of themself",      _suspend_self,        (U , F , F , F , F , F )),
    ("grantCredits",                      _grant,               (U , F , F , F , F , OK)),
]
# fmt: on


async def caller_for(
    client: httpx.AsyncClient, engine: AsyncEngine, row: str, owner: int
) -> Caller:
    """The caller a row of the matrix names."""
    if row == "anonymous":
        return ANONYMOUS
    if row in ("owner", "suspended"):
        session = await log_in(client, engine, owner)
        if row == "suspended":
            await suspend(engine, owner)
        return session
    return await sign_in(client, engine, role=Role(row.upper()))


async def test_the_matrix_covers_every_mutation_of_the_schema(
    client: httpx.AsyncClient,
) -> None:
    body = await send(client, ANONYMOUS, "{ __schema { mutationType { fields { name } } } }")
    fields = {field["name"] for field in body["data"]["__schema"]["mutationType"]["fields"]}
    assert {column.split()[0] for column, _, _ in MATRIX} == fields


@pytest.mark.parametrize("row", CALLERS)
async def test_who_may_call_each_mutation(
    client: httpx.AsyncClient, engine: AsyncEngine, row: str
) -> None:
    # given an admin (so no one is the last), the owner of what the mutations act on, a caller
    await factories.create_user(engine, role=Role.ADMIN)
    owner = await factories.create_user(engine)
    caller = await caller_for(client, engine, row, owner)
    world = World(client, engine, owner, caller)

    # when the caller calls each mutation on a target of its own
    seen, expected = {}, {}
    for column, variables, outcomes in MATRIX:
        field = column.split()[0]
        mutation_input = await variables(world)
        before = await database_state(engine)
        result = outcome(await send(client, caller, document(field), {"i": mutation_input}), field)
        seen[column], expected[column] = result, outcomes[CALLERS.index(row)]
        # then a refused call writes nothing
        if result in (F, U):
            assert await database_state(engine) == before, column

    assert seen == expected
    await assert_money_adds_up(engine)
