"""Logging of `serve`: uvicorn's own configuration plus marketgraph's loggers."""

from __future__ import annotations

import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def logging_config() -> dict[str, Any]:
    """uvicorn's config, with request lines as bare JSON on stdout and errors on stderr."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json_lines"] = {"format": "%(message)s"}
    config["handlers"]["requests"] = {
        "class": "logging.StreamHandler",
        "formatter": "json_lines",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["marketgraph"] = {"handlers": ["default"], "level": "INFO"}
    config["loggers"]["marketgraph.requests"] = {
        "handlers": ["requests"],
        "level": "INFO",
        "propagate": False,
    }
    return config
