"""Live balances in GraphiQL, in a real browser: the "done when" of issue 21."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Devnet, devnet_settings, live_server, run_node_test
from tests.graph.streams.client import usdc_of

NODE_TEST = str(Path(__file__).with_name("graphiql_live.test.mjs"))


def test_a_subscription_in_graphiql_shows_a_transfer_made_on_the_chain(
    own_devnet: Devnet, tmp_path: Path
) -> None:
    sample = own_devnet.sample
    account, sender = sample.holders[1], sample.holders[0]
    screenshot = tmp_path / "live.png"
    env = {
        "BG_ANVIL": own_devnet.url,
        "BG_ACCOUNT": account,
        "BG_SENDER": sender,
        "BG_TOKEN": sample.token("USDC").address,
        "BG_BEFORE": str(usdc_of(own_devnet, account)),
        "BG_SCREENSHOT": str(screenshot),
    }
    settings = devnet_settings(tmp_path, own_devnet, poll_interval=0.5)
    with live_server(settings) as url:
        output = run_node_test(NODE_TEST, env | {"BG_URL": url}, timeout=90)
    assert "pushed " in output
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
