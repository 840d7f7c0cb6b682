"""Alembic's environment for the live store: it runs on the connection ``migrate`` hands it.

``features.live_store.migrate`` upgrades to head on every API start and every command that opens
the store; a new revision goes in ``versions/`` (``alembic -x`` is not needed: generate one with
``alembic revision -m "..."`` pointed at this folder, then write its upgrade by hand).
"""

from __future__ import annotations

from alembic import context

from features.live_store import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
