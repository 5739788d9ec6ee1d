"""Fakes for what a test machine cannot run, and in-memory stand-ins for our own protocols.

The upstream fakes answer exactly as the published API describes (their module docstrings
name the spec), so a provider that passes against one speaks the real protocol:

    starknet.py   a Starknet JSON-RPC node (spec v0.7/v0.8) and the provider harness
    esplora.py    Blockstream's Esplora REST API (esplora API.md)
    defillama.py  DefiLlama's coins API (coins.llama.fi)

The stand-ins implement this service's own protocols for fast unit tests:

    prices.py     a `PriceSource` with fixed quotes that records each call
    service.py    a `ChainProvider` over a dict, wired into real readers, loaders and scopes

Test modules import these; no test module imports another test module.
"""
