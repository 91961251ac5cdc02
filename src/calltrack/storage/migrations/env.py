"""Alembic's environment for calltrack's schema.

Run through :func:`calltrack.storage.sql.upgrade` (or ``calltrack db upgrade``), which
passes the connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from calltrack.storage._schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run calltrack's migrations with `calltrack db upgrade --db URL` "
        "or calltrack.storage.sql.upgrade(url)"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
