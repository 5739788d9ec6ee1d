"""How bytes reach nodes: JSON-RPC framing and endpoint failover (the HTTP client itself, and
the mapping of its failures to our errors, are `core.http` and `core.pools`).

endpoints.py  Endpoints: try a chain's URLs in order, cool down the failed ones
jsonrpc.py    JsonRpcClient: single calls and batches, matched by id
"""
