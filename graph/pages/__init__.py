"""Static pages served by the service, offline: GraphiQL and its npm assets, and the root.

index.py      `GET /`: links to the pages and endpoints
graphiql.py   the explorer page and the routes of its files
assets.py     which npm files the pages serve (shared with the build step)
vendoring.py  the build step: those files from the tarballs package-lock.json pins
static/       our own scripts; static/vendor/ is written at build time
"""
