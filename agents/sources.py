"""The libraries and connections of a workspace that an agent's document search may
name. The one module of ``agents`` that reads ``connectors``' rows: ids and names only,
scoped to the workspace (``connectors`` has no public list of them by id yet; when it
gets one, this module calls it instead)."""

from __future__ import annotations

from collections.abc import Iterable

from connectors.models import Connection, Library


def libraries(workspace_id: int, ids: Iterable[int] | None = None) -> dict[int, str]:
    """The workspace's libraries (of ``ids`` when given), by id: one query."""
    qs = Library.objects.filter(workspace_id=workspace_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return dict(qs.order_by("name", "id").values_list("id", "name"))


def connections(workspace_id: int, ids: Iterable[int] | None = None) -> dict[int, str]:
    """The workspace's connections (of ``ids`` when given), by id: one query."""
    qs = Connection.objects.filter(workspace_id=workspace_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return dict(qs.order_by("display_name", "id").values_list("id", "display_name"))
