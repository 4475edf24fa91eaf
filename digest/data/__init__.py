"""The one way to the tables: every SQL statement digest runs lives in this package.

Why one place: the same data is read and written by the fast raw-SQL paths (polling, listing
tools, casting votes, marking a delivery sent) and by the ORM, on two backends (SQLite and
PostgreSQL). Keeping the SQL together keeps the two backends' differences, the stored format of
datetimes and JSON, and the locking rules in one reviewable place, and keeps the rest of digest
speaking in domain terms (feeds, tools, issues, votes) rather than in tables.

What lives here:
- `engine`: `connect` and `Database`, one SQL string run by sqlite3 on SQLite (no SQLAlchemy
  import, which costs more than `digest tools list`'s whole start-up budget) or by SQLAlchemy on
  PostgreSQL; `Conflict` and `Retry` for the writes that can lose a race.
- `codec`: the one datetime codec (aware UTC <-> each backend's stored form) and `as_json`.
- one module per aggregate (`feeds`, `tools`, `editorial`, `subscribers`, `issues`, `votes`):
  one function per operation, working on both backends, the dialect difference inside it.
- `worker`: the web worker's own raw SQLite connection for the vote hot path (its write
  transaction, WAL checkpoints) and the health check's ping.

Outside this package only `digest.db` (the schema and migrations glue) may hold SQL text;
tests/test_layers.py checks it. This module imports nothing, so importing a submodule stays cheap.
"""
