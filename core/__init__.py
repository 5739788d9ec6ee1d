"""The service's shared vocabulary, below every other package and importing none of ours.

errors.py    the error tree every layer raises and GraphQL shows (`ServiceError` ...)
models.py    chains, tokens, balance keys and readings
amounts.py   exact integer and decimal arithmetic for money
clock.py     the injectable wall clock
identity.py  values remembered by the identity of immutable objects
metrics.py   the process's Prometheus metrics
text.py      untrusted text made safe to show
http.py      foreign HTTP failures mapped to our errors; bodies read under a cap
pools.py     one upstream HTTP client (connection pool) per chain or price source
"""
