"""The service's logging: one stderr handler, our level, HTTP client loggers held at WARNING."""

from __future__ import annotations

import logging
import logging.config

import pytest

from graph.logs import log_config


@pytest.mark.parametrize("level", ["debug", "info", "warning", "error"])
def test_the_level_applies_to_root_and_uvicorn_but_never_to_http_clients(level: str) -> None:
    config = log_config(level)
    assert config["root"] == {"level": level.upper(), "handlers": ["stderr"]}
    assert config["loggers"] == {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "uvicorn": {"level": level.upper()},
    }
    assert config["disable_existing_loggers"] is False


@pytest.mark.usefixtures("restore_logging")
def test_applied_it_hides_request_urls_and_shows_ours(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(log_config("debug"))
    logging.getLogger("httpx").info('HTTP Request: POST https://node.example/v2/KEY "200 OK"')
    logging.getLogger("httpcore.connection").debug("connect_tcp.started host='node.example'")
    logging.getLogger("chains.transport.endpoints").warning("base: endpoint https://x/… failed")
    logging.getLogger("httpx").warning("a warning from httpx still shows")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "WARNING chains.transport.endpoints: base: endpoint https://x/… failed",
        "WARNING httpx: a warning from httpx still shows",
    ]
    assert "KEY" not in "\n".join(lines)


@pytest.mark.usefixtures("restore_logging")
def test_info_is_shown_and_debug_is_not_at_the_default_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.config.dictConfig(log_config())
    logging.getLogger("balance_graph").info("serving 2 chains")
    logging.getLogger("balance_graph").debug("noise")
    err = capsys.readouterr().err
    assert "INFO balance_graph: serving 2 chains" in err and "noise" not in err
