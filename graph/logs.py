"""The service's logging, applied by the CLI and by every uvicorn worker it starts."""

from __future__ import annotations

from typing import Any


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` document: one stderr handler, quiet HTTP client loggers.

    httpx and httpcore log every request's full URL at INFO, and RPC URLs can carry API
    keys, so they only ever log warnings; our own upstream logs name endpoints by label.
    """
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "uvicorn": {"level": level},
        },
    }
