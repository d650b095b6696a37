"""The words demo markets and comments are made of."""

from __future__ import annotations

SUBJECTS = (
    "the new bridge",
    "the city marathon",
    "the library expansion",
    "the spring festival",
    "the tram line",
    "the harbour cleanup",
    "the solar farm",
    "the football club",
    "the chess championship",
    "the river ferry",
    "the night market",
    "the bike lanes",
)
EVENTS = (
    "open to the public",
    "draw more than 10,000 visitors",
    "finish on budget",
    "be postponed",
    "win the regional prize",
    "double its membership",
    "need a second vote",
)
OUTCOME_SETS = (
    ("Yes", "No"),
    ("Yes", "No", "Too close to call"),
    ("Before March", "March to June", "After June", "Never"),
    ("Under 50", "50 to 100", "Over 100"),
)
COMMENTS = (
    "I think the odds are off here.",
    "Source? This seems unlikely.",
    "Staked a little on the underdog.",
    "The council meets next week, we'll know more.",
    "Great question!",
    "Last year it happened twice.",
    "Doubling down.",
)
