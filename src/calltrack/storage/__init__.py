"""Storage adapters: :mod:`calltrack.storage.memory` and :mod:`calltrack.storage.sql`."""
