"""A set of principal ids stored on each document.

On PostgreSQL it is an ``integer[]`` with a GIN index, and "may any of these principals
see it" is the built-in array overlap operator ``&&`` (the intarray extension is not used:
it replaces ``&&`` for its own operator class). On SQLite, which the local quick start
uses, it is a JSON array and the overlap is a ``json_each`` join: same answers, no index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Lookup
from django.db.models.sql.compiler import SQLCompiler


def normalize(ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in ids})


class PrincipalSetField(models.Field[Any, Any]):
    description = "A set of principal ids"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "integer[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if value is None:
            return None
        ids = normalize(value)
        if connection.vendor == "postgresql":
            return ids
        return json.dumps(ids)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None if self.null else []
        if isinstance(value, str):
            return json.loads(value)
        return list(value)

    def to_python(self, value: Any) -> list[int]:
        if isinstance(value, str):
            return normalize(json.loads(value))
        return normalize(value or [])


@PrincipalSetField.register_lookup
class Overlaps(Lookup[list[int]]):
    """``principals__overlaps=[1, 2, 3]``: the set shares at least one id with the list."""

    lookup_name = "overlaps"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        ids = normalize(value)
        return ("%s", [ids if connection.vendor == "postgresql" else json.dumps(ids)])

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} && {rhs}::integer[]", (*lhs_params, *rhs_params)
        # lhs is a column reference and rhs a placeholder: no value is interpolated.
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) AS held "  # noqa: S608
            f"JOIN json_each({rhs}) AS asked ON held.value = asked.value)"
        )
        return sql, (*lhs_params, *rhs_params)
