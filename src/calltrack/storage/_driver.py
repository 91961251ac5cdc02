"""Statements compiled once per dialect and run on the driver's own cursor.

SQLAlchemy's ``Connection.execute`` rebuilds, keys and looks up a statement on every call,
which costs many times what SQLite takes to run it. The statements a webhook runs are few
and fixed, so :class:`Prepared` compiles each once, keeps the SQL text, the order of its
parameters and the type conversions SQLAlchemy would apply (a timezone-aware datetime to
SQLite's text, an integer back to a bool), and runs it on the DBAPI cursor. The SQL and the
conversions still come from the table declarations, so the database sees what SQLAlchemy
would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Prepared"]

_Convert = Callable[[Any], Any]


@attrs.frozen
class Prepared:
    """One statement compiled for one dialect, with its parameters' and columns' conversions.

    Attributes:
        sql: The statement's text in the driver's parameter style.
        positional: Whether the driver takes parameters as a tuple (else as a dict).
        params: The bound parameters' names, in the order a tuple gives them.
        binds: For each of ``params``, the conversion of a Python value for the driver.
        defaults: Values of parameters the statement fixes itself (a ``LIMIT``).
        columns: The names of the columns a row holds.
        results: For each of ``columns``, the conversion of the driver's value to Python.
    """

    sql: str
    positional: bool
    params: tuple[str, ...]
    binds: tuple[_Convert | None, ...]
    defaults: Mapping[str, Any]
    columns: tuple[str, ...]
    results: tuple[_Convert | None, ...]

    @classmethod
    def compile(cls, statement: sa.ClauseElement, dialect: Dialect) -> Prepared:
        """Compile ``statement`` for ``dialect``; name its parameters with ``bindparam``."""
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        positional = bool(compiled.positional)
        params = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in params
        )
        defaults = {
            name: bound.value
            for name, bound in compiled.binds.items()
            if not bound.required and bound.value is not None
        }
        exported = statement.exported_columns if isinstance(statement, sa.ReturnsRows) else ()
        columns = tuple(column.key for column in exported)
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in exported
        )
        return cls(str(compiled), positional, params, binds, defaults, columns, results)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for ``values`` (keyed by parameter name).

        Raises:
            KeyError: If a parameter the statement needs is missing.
            ValueError: If a value cannot be stored (a naive datetime).
        """
        out = []
        for name, convert in zip(self.params, self.binds, strict=True):
            value = values[name] if name in values else self.defaults[name]
            out.append(convert(value) if convert is not None else value)
        return tuple(out) if self.positional else dict(zip(self.params, out, strict=True))

    def row(self, raw: Any) -> dict[str, Any]:  # noqa: ANN401 - a driver's row
        """One row from the driver, converted and keyed by column name."""
        return {
            name: convert(value) if convert is not None else value
            for name, convert, value in zip(self.columns, self.results, raw, strict=True)
        }

    def run(self, cursor: DBAPICursor, values: Mapping[str, Any]) -> None:
        """Execute on ``cursor``; the driver's errors pass through unchanged."""
        cursor.execute(self.sql, self.parameters(values))
