"""USD prices: not a chain, but read beside chains, through the same shared HTTP client.

    PriceSource           base.py       quotes(keys) -> {key: Quote}; a key left out is unpriced
    ├── StaticPrices      static.py     fixed prices from config (devnet, tests, pegged assets)
    ├── DefiLlamaPrices   defillama.py  every coin of one call in one batched request
    └── FallbackSources   fallback.py   sources in order; asks each only for what is unpriced
    PriceReader           reader.py     the cache in front (quotes and "unpriced" are kept)

A source that fails makes its keys `PriceUnavailable` (an error, never a zero) unless a
later source prices them.
"""
