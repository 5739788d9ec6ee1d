"""The GraphQL surface, in rooms that follow a request's floors.

http/       the HTTP endpoint, its middleware, the guarded protocol, health and metrics
checks/     everything checked and priced before any I/O
execution/  running a planned operation, and the answer cache
schema/     the schema's types, split by entity (no I/O, no logic)
pages/      static pages served offline (GraphiQL)

At the root: the app (`app.py`), what its lifespan opens (`services.py`), logging, the
command line (`cli.py`) and the demo.
"""
