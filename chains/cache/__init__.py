"""Byte caches behind one batch-first protocol.

    Cache              base.py       get_many / set_many / close, bytes in and out
    ├── MemoryCache    memory.py     in-process LRU with expiry (the default)
    ├── RedisCache     redis.py      one Redis shared by every worker and replica
    └── ResilientCache resilient.py  wraps either: backend failures become misses

`codec` is how balances and token metadata are written into those bytes.
"""
