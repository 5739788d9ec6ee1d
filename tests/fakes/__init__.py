"""Spec-shaped fakes of upstream services that cannot run on a test machine.

Each fake answers exactly as the published API describes (its module docstring names the
spec), so a provider that passes against it speaks the real protocol. Test modules import
these fakes; no test module imports another test module.

    starknet.py   a Starknet JSON-RPC node (spec v0.7/v0.8) and the provider harness
    esplora.py    Blockstream's Esplora REST API (esplora API.md)
    defillama.py  DefiLlama's coins API (coins.llama.fi)
"""
