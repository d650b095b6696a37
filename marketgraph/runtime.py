"""What `marketgraph serve` runs in each worker: the app, then a tuned garbage collector."""

from __future__ import annotations

import gc

from starlette.applications import Starlette

from graph.app import create_app
from marketgraph.settings import Settings


def tune_gc(settings: Settings) -> None:
    """Collect young objects less often, and never rescan what start-up left alive.

    A nested query allocates hundreds of thousands of short-lived objects, nearly all freed by
    reference counting; at Python's default threshold (700) the collector runs hundreds of
    times per request, and its older-generation passes walk every live request's objects.
    `gc.freeze()` moves the modules, schema and settings loaded so far to a generation the
    collector never scans.
    """
    if settings.gc_threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(settings.gc_threshold, older, oldest)
    if settings.gc_freeze:
        gc.collect()
        gc.freeze()


def create_served_app() -> Starlette:
    """The app for uvicorn's factory: built from the environment, the collector tuned after."""
    app = create_app()
    tune_gc(app.state.settings)
    return app
