"""Discovery: which tokens a wallet holds, found without an indexer.

    base.py        the two kinds of source and the values they speak
    coverage.py    what a block-range source has scanned for one account, and what it saw
    service.py     one chain's discovery: sources tried in order, final ranges read once,
                   cold scans in the background under a budget, bounded memory
    shared.py      coverage shared between processes through the cache (Redis)
    indexers.py    Blockscout, Etherscan-compatible and Alchemy sources (EVM, optional)

The family sources of block ranges are `chains.evm.discovery` (address-less `eth_getLogs`)
and `chains.starknet.discovery` (`starknet_getEvents`).
"""
