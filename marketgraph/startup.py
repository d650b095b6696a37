"""What `serve` refuses to start with: each problem one line, all of them at once."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from auth.keys import KeyConfigurationError, load_keys
from marketgraph.settings import Mode, Settings

# The query limits of SPEC section 4: 0 switches one off, which production refuses.
QUERY_LIMITS = ("max_depth", "max_aliases", "max_tokens", "max_cost", "max_body_bytes")


def serve_problems(settings: Settings, *, workers: int, reload: bool) -> list[str]:
    """Why the server must not start with these settings; empty when it may."""
    problems = []
    if workers > 1 and make_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        problems.append("--workers > 1 needs PostgreSQL: SQLite allows one writer at a time")
    try:
        load_keys(settings)
    except KeyConfigurationError as error:
        problems.append(str(error))
    if settings.mode is Mode.PRODUCTION:
        problems += _production_problems(settings, reload=reload)
    return problems


def _production_problems(settings: Settings, *, reload: bool) -> list[str]:
    problems = []
    if reload:
        problems.append("--reload restarts on every code change: production mode refuses it")
    problems += [
        f"MARKETGRAPH_{name.upper()}=0 switches that query limit off: production mode refuses it"
        for name in QUERY_LIMITS
        if getattr(settings, name) == 0
    ]
    if "*" in settings.cors_origins:
        problems.append(
            'MARKETGRAPH_CORS_ORIGINS allows every origin ("*"): production mode needs the '
            "origins of your web apps listed"
        )
    return problems
