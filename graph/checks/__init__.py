"""The checks made before any I/O: from a request's parameters to a priced operation.

params.py      the parameters, read from GET or POST and bounded
documents.py   each document parsed, measured and validated once (an LRU)
shape.py       depth, aliases and fields, fragments expanded in linear time
validation.py  graphql-core's specified rules, faster
fragments.py   the walk over selections through fragments that cost and usage share
cost.py        the balance lookups an operation asks for (credits, `max_lookups`)
usage.py       what it asks of each rate class
persisted.py   Automatic Persisted Queries
planning.py    all of the above, in order, for one request
"""
