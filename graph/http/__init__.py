"""The HTTP side: the `/graphql` endpoint and its middleware, the guarded uvicorn protocol,
and the health and metrics endpoints.

endpoint.py    GraphQL over HTTP: the request pipeline, negotiation, status codes
middleware.py  request ids and the headers every response carries
body_limit.py  413 for a body over the limit, declared or streamed
protocol.py    uvicorn's protocol with a read deadline and a header size limit
health.py      /health/live, /health/ready, /metrics
"""
