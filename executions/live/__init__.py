"""Live execution updates: websockets and Server-Sent Events (SPEC §4).

| module | what it holds |
|---|---|
| `auth.py` | credentials of a socket or stream (bearer subprotocol, `?token=`, `?api_key=`, headers), access checks |
| `ordering.py` | per-run `seq` ordering: duplicates dropped, early messages held until a gap fills |
| `consumers.py` | the three sockets: authenticate, authorise, join groups, snapshot, relay, ping, cancel |
| `routing.py` | the websocket URLs |
| `sse.py` | `GET /api/v1/executions/{id}/logs/stream`, the log tail as `text/event-stream` |

Everything here reads; events are published by :mod:`executions.broadcast` only.
"""
