"""How bytes reach nodes: HTTP error mapping, JSON-RPC framing, endpoint failover.

http.py       upstream_errors: httpx failures -> our UpstreamError tree
endpoints.py  Endpoints: try a chain's URLs in order, cool down the failed ones
jsonrpc.py    JsonRpcClient: single calls and batches, matched by id
"""
