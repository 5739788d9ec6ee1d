"""Running a planned operation.

context.py  the per-request context: the resolvers' scope and errors beside the data
run.py      execution, and the one place errors are made fit for a client
direct.py   the executor that serves plain fields without graphql-core's per-field machinery
answers.py  whole answers kept for identical requests, as fresh as their fields promised
"""
