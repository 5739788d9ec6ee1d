"""The GraphQL schema: types split by entity, no I/O and no logic (that is `resolvers`).

scalars.py, enums.py, arguments.py  the vocabulary: BigInt, Decimal, enums, shared arguments
token.py      Token (a federation entity)
chain.py      Chain
account.py    Account (a federation entity) and the Balance rows it holds
portfolio.py  Portfolio totals
history.py    balance timelines and portfolio points
query.py      the Query root
subgraph.py   the federation schema, its `_entities`, and `build_schema`
"""
