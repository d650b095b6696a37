"""The market rules of SPEC section 1, as problems to report (no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta

from db.base import as_utc, utcnow
from marketgraph.problems import Problem, ProblemCode

QUESTION_LENGTH = range(10, 301)
DESCRIPTION_MAX = 10_000
OUTCOME_COUNT = range(2, 11)
LABEL_LENGTH = range(1, 101)
EARLIEST_CLOSE = timedelta(minutes=1)
LATEST_CLOSE_YEARS = 5


def _invalid(message: str, *field: str) -> Problem:
    return Problem(ProblemCode.INVALID_INPUT, message, ("input", *field))


def question_problems(question: str) -> list[Problem]:
    """A question is 10 to 300 characters."""
    if len(question.strip()) not in QUESTION_LENGTH:
        return [_invalid("A question is 10 to 300 characters.", "question")]
    return []


def description_problems(description: str) -> list[Problem]:
    """A description is at most 10,000 characters."""
    if len(description) > DESCRIPTION_MAX:
        return [_invalid("A description is at most 10,000 characters.", "description")]
    return []


def years_later(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years on (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def closes_at_problems(closes_at: datetime) -> list[Problem]:
    """A market closes at least a minute and at most five calendar years from now."""
    now = utcnow()
    try:
        closes = as_utc(closes_at)
    except OverflowError:
        closes = None
    if closes is None or not now + EARLIEST_CLOSE <= closes <= years_later(now, LATEST_CLOSE_YEARS):
        return [_invalid("closesAt must be between a minute and five years from now.", "closesAt")]
    return []


def outcome_problems(labels: list[str]) -> list[Problem]:
    """2 to 10 labels of 1 to 100 characters, distinct ignoring case and surrounding spaces."""
    if len(labels) not in OUTCOME_COUNT:
        return [_invalid("A market has 2 to 10 outcomes.", "outcomes")]
    problems = [
        _invalid("An outcome label is 1 to 100 characters.", "outcomes", str(index))
        for index, label in enumerate(labels)
        if len(label.strip()) not in LABEL_LENGTH
    ]
    seen: set[str] = set()
    for index, label in enumerate(labels):
        key = label.strip().casefold()
        if key in seen:
            problems.append(_invalid("Outcome labels must differ.", "outcomes", str(index)))
        seen.add(key)
    return problems
