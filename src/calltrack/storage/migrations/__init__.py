"""Alembic migrations of :class:`calltrack.storage.sql.SqlStorage`; see ``calltrack db upgrade``."""
