"""addComment and deleteComment over HTTP: who may, what is refused, and where deleted
comments no longer show."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.relay import to_global_id
from tests import factories
from tests.sessions import (
    ANONYMOUS,
    database_state,
    payload,
    send,
    sign_in,
    user_errors,
)

ADD = """
mutation ($i: AddCommentInput!) {
  addComment(input: $i) {
    comment { id body createdAt author { id } market { id } }
    errors { code field message }
  }
}
"""
DELETE = """
mutation ($i: DeleteCommentInput!) {
  deleteComment(input: $i) { deletedId errors { code field message } }
}
"""
LISTS = """
query ($market: ID!, $author: String!) {
  market(id: $market) { comments { totalCount edges { node { id body } } } }
  user(username: $author) { comments { totalCount edges { node { id } } } }
}
"""


def comment_gid(pk: int) -> str:
    """A comment's global ID."""
    return to_global_id("Comment", pk)


def add_input(market_id: int, body: str) -> dict[str, Any]:
    """The variables of ADD."""
    return {"i": {"market": to_global_id("Market", market_id), "body": body}}


async def test_a_comment_joins_the_market_discussion_oldest_first(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=bob)
    earlier = await factories.comment(engine, market_id=market_id, author_id=bob, body="Hm.")
    alice = await sign_in(client, engine, username="alice")

    body = await send(client, alice, ADD, add_input(market_id, "I say yes."))

    added = payload(body, "addComment")
    assert added["errors"] == []
    comment = added["comment"]
    assert (comment["body"], comment["author"], comment["market"]) == (
        "I say yes.",
        {"id": alice.gid},
        {"id": to_global_id("Market", market_id)},
    )
    lists = await send(
        client, ANONYMOUS, LISTS, {"market": to_global_id("Market", market_id), "author": "alice"}
    )
    assert [edge["node"] for edge in lists["data"]["market"]["comments"]["edges"]] == [
        {"id": comment_gid(earlier), "body": "Hm."},
        {"id": comment["id"], "body": "I say yes."},
    ]
    assert lists["data"]["user"]["comments"]["totalCount"] == 1


async def test_comments_of_the_wrong_length_or_on_nothing_are_refused(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    market_id, (yes, _) = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)
    cases = {
        "empty": (add_input(market_id, ""), [("INVALID_INPUT", ["input", "body"])]),
        "too long": (add_input(market_id, "x" * 5_001), [("INVALID_INPUT", ["input", "body"])]),
        "no such market": (add_input(9_999, "Hello?"), [("NOT_FOUND", ["input", "market"])]),
        "an outcome's ID": (
            {"i": {"market": to_global_id("Outcome", yes), "body": "Hello?"}},
            [("NOT_FOUND", ["input", "market"])],
        ),
    }
    before = await database_state(engine)

    results = {
        name: user_errors(await send(client, alice, ADD, variables), "addComment")
        for name, (variables, _) in cases.items()
    }

    assert results == {name: errors for name, (_, errors) in cases.items()}
    assert await database_state(engine) == before


async def test_comments_at_the_limits_are_accepted(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)

    shortest = payload(await send(client, alice, ADD, add_input(market_id, "!")), "addComment")
    longest = payload(
        await send(client, alice, ADD, add_input(market_id, "x" * 5_000)), "addComment"
    )

    assert shortest["errors"] == longest["errors"] == []
    assert (shortest["comment"]["body"], len(longest["comment"]["body"])) == ("!", 5_000)


async def test_a_deleted_comment_leaves_every_list_and_cannot_be_deleted_again(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given alice's two comments on a market
    alice = await sign_in(client, engine, username="alice")
    market_id, _ = await factories.create_market(engine, creator_id=alice.user_id)
    doomed = await factories.comment(
        engine, market_id=market_id, author_id=alice.user_id, body="Oops."
    )
    kept = await factories.comment(
        engine, market_id=market_id, author_id=alice.user_id, body="Better."
    )

    # when she deletes one
    body = await send(client, alice, DELETE, {"i": {"id": comment_gid(doomed)}})

    # then it is gone from the market's and from her own list
    assert payload(body, "deleteComment") == {"deletedId": comment_gid(doomed), "errors": []}
    lists = await send(
        client, ANONYMOUS, LISTS, {"market": to_global_id("Market", market_id), "author": "alice"}
    )
    market_comments = lists["data"]["market"]["comments"]
    assert market_comments["totalCount"] == 1
    assert [edge["node"]["id"] for edge in market_comments["edges"]] == [comment_gid(kept)]
    assert lists["data"]["user"]["comments"] == {
        "totalCount": 1,
        "edges": [{"node": {"id": comment_gid(kept)}}],
    }

    # and deleting it again, or a comment that never was, finds nothing and writes nothing
    before = await database_state(engine)
    again = await send(client, alice, DELETE, {"i": {"id": comment_gid(doomed)}})
    never = await send(client, alice, DELETE, {"i": {"id": comment_gid(9_999)}})
    assert user_errors(again, "deleteComment") == [("NOT_FOUND", ["input", "id"])]
    assert user_errors(never, "deleteComment") == [("NOT_FOUND", ["input", "id"])]
    assert payload(again, "deleteComment")["deletedId"] is None
    assert await database_state(engine) == before


async def test_padding_does_not_stretch_a_comment_past_5000_characters(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    bob = await factories.create_user(engine)
    market_id, _ = await factories.create_market(engine, creator_id=bob)
    alice = await sign_in(client, engine)

    padded = "Yes." + " " * 5_000
    added = payload(await send(client, alice, ADD, add_input(market_id, padded)), "addComment")

    # refused, or kept without the padding: either way no body longer than 5,000 characters
    refused = [(e["code"], e["field"]) for e in added["errors"]] == [
        ("INVALID_INPUT", ["input", "body"])
    ]
    assert refused or len(added["comment"]["body"]) <= 5_000
