"""The HTTP API's routes, one module per resource; `engine.server` assembles and serves them.

- `common`: app keys, errors, request parsing, the session summary every route shares.
- `sessions`: /sessions and everything under /sessions/{name}.
- `events`: /events, the instance's one event stream.
- `openapi`: the /openapi.json document (typed request and response schemas).
"""
