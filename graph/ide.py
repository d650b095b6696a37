"""Offline GraphiQL page: Strawberry's GraphiQL template with locally served assets."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Final

__all__ = ["STATIC_DIR", "STATIC_URL", "graphiql_html"]

STATIC_DIR: Final[Path] = Path(__file__).resolve().parent / "static" / "graphiql"
"""Folder with the vendored GraphiQL assets; mount it with ``StaticFiles`` at STATIC_URL."""

STATIC_URL: Final = "/graphiql-static"
"""URL path where the app mounts ``StaticFiles(directory=STATIC_DIR)``."""

_TEMPLATE: Final[str] = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

EXAMPLES_DIR: Final[Path] = Path(__file__).resolve().parent.parent / "examples"
"""The example operations offered as GraphiQL tabs (absent from a wheel install: no tabs)."""


def example_tabs() -> list[dict[str, str]]:
    """One GraphiQL tab per example operation (with its `.variables.json`), in name order."""
    tabs = []
    for path in sorted(EXAMPLES_DIR.glob("*.graphql")):
        tab = {"query": path.read_text(encoding="utf-8")}
        variables = path.with_suffix(".variables.json")
        if variables.exists():
            tab["variables"] = variables.read_text(encoding="utf-8")
        tabs.append(tab)
    return tabs


@cache
def graphiql_html(*, subscriptions: bool = True) -> str:
    """Return the GraphiQL page using STATIC_URL assets; ``subscriptions`` turns on websockets."""
    # "</" inside the inline script would end it early.
    tabs = json.dumps(example_tabs()).replace("</", "<\\/")
    html = (
        _TEMPLATE.replace("{{ STATIC_URL }}", STATIC_URL)
        .replace("{{ SUBSCRIPTION_ENABLED }}", json.dumps(subscriptions))
        .replace("{{ EXAMPLE_TABS }}", tabs)
    )
    if "{{" in html or "unpkg.com" in html:
        raise RuntimeError(f"unfilled placeholder or CDN URL in {STATIC_DIR / 'index.html'}")
    return html
