"""Discussing markets: addComment, deleteComment."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import insert, select, update

from auth.rbac import Permission
from db.base import utcnow
from db.models import Comment, Market
from graph.comments.types import Comment as CommentType
from graph.context import Info
from graph.errors import UserError, user_errors
from graph.permissions import IsOwnerOr, guarded
from graph.relay import pk_of, required_node, to_global_id
from graph.subscriptions.publishing import comment_added
from marketgraph.problems import Problem, ProblemCode

BODY_LENGTH = range(1, 5_001)


@strawberry.input
class AddCommentInput:
    """A comment on a market."""

    market: strawberry.ID
    body: str


@strawberry.input
class DeleteCommentInput:
    """The comment to delete."""

    id: strawberry.ID


@strawberry.type
class CommentPayload:
    """The new comment, or why there is none."""

    comment: CommentType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteCommentPayload:
    """The ID of the deleted comment, or why nothing was deleted."""

    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def comment_author(info: Info, comment_input: Any) -> int | None:
    """Who wrote the comment `input.id` names (None if there is no such comment)."""
    pk = pk_of(str(comment_input.id), "Comment")
    if pk is None:
        return None
    row = await info.context.loaders.comments_by_id.load(pk)
    return None if row is None else int(row.author_id)


@strawberry.type
class CommentMutations:
    """Writing and removing comments."""

    @strawberry.mutation(
        description="Comment on a market (1 to 5,000 characters).",
        extensions=guarded(Permission.COMMENT_ADD),
    )
    async def add_comment(self, info: Info, input: AddCommentInput) -> CommentPayload:
        body = input.body.strip()
        problems = []
        if len(body) not in BODY_LENGTH:
            problems.append(
                Problem(
                    ProblemCode.INVALID_INPUT,
                    "A comment is 1 to 5,000 characters.",
                    ("input", "body"),
                )
            )
        viewer = info.context.viewer
        assert viewer is not None  # guarded: signed in
        market_id = pk_of(input.market, "Market")
        async with info.context.writing() as db:
            found = market_id is not None and await db.scalar(
                select(Market.id).where(Market.id == market_id)
            )
            if not found:
                problems.insert(
                    0, Problem(ProblemCode.NOT_FOUND, "No such market.", ("input", "market"))
                )
            if problems:
                return CommentPayload(errors=user_errors(problems))
            comment_id = await db.scalar(
                insert(Comment)
                .values(
                    market_id=market_id,
                    author_id=viewer.user_id,
                    body=body,
                    created_at=utcnow(),
                )
                .returning(Comment.id)
            )
        assert comment_id is not None
        assert market_id is not None  # found above
        await comment_added(info.context, market_id, comment_id)
        await info.context.after_write()
        loader = info.context.loaders.comments_by_id
        return CommentPayload(comment=await required_node(loader, comment_id, CommentType.from_row))

    @strawberry.mutation(
        description="Delete a comment (its author or a moderator); it leaves every list.",
        extensions=guarded(
            None, IsOwnerOr(Permission.COMMENT_DELETE_ANY, comment_author, "author")
        ),
    )
    async def delete_comment(self, info: Info, input: DeleteCommentInput) -> DeleteCommentPayload:
        comment_id = pk_of(input.id, "Comment")
        async with info.context.writing() as db:
            deleted = (
                comment_id is not None
                and (
                    await db.execute(
                        update(Comment)
                        .where(Comment.id == comment_id, Comment.deleted_at.is_(None))
                        .values(deleted_at=utcnow())
                    )
                ).rowcount
                == 1
            )
        if not deleted or comment_id is None:
            missing = Problem(ProblemCode.NOT_FOUND, "No such comment.", ("input", "id"))
            return DeleteCommentPayload(errors=user_errors([missing]))
        return DeleteCommentPayload(deleted_id=to_global_id("Comment", comment_id))
