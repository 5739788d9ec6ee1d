"""Who may call, how often, and at what price: API keys, rate limits and credits.

caller.py        the key a request presents, or the client address (trusted proxies only)
keys.py          keys: random, shown once, stored as SHA-256 digests
windows.py       the sliding-window rate limit, in integers (every store follows it)
store.py         MeterStore (per request) and KeyAdmin (CLI) protocols, their vocabulary
redis_store.py   one Lua script per request: shared by every worker and replica
sqlite_store.py  one transaction per request: shared by every worker of one machine
memory.py        anonymous limits in-process, while a store is down
meter.py         the two steps of a request: identify, then admit and charge
admin.py         `balance-graph keys create|list|revoke|credit`

`graph` calls `meter`; nothing here knows GraphQL.
"""
