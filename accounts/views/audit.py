"""The workspace's audit log (R-WS-8): a read-only page with filters and keyset
pagination, and a streamed CSV export of the same filtered events. Nothing here
writes: the log is append-only and only services add to it."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.access import WorkspaceRequest, workspace_view
from accounts.audit import audit_events, audit_page
from accounts.audit_display import action_label, changes, describe
from accounts.audit_forms import PAGE_SIZE, AuditFilterForm, AuditPageForm
from accounts.models import AuditEvent
from accounts.roles import Perm

TEMPLATE = "accounts/audit/index.html"
FILTER_NAMES = ("action", "actor", "date_from", "date_to")

CSV_HEADER = [
    "time_utc",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "before",
    "after",
    "ip_address",
]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_AUDIT)
def index(request: WorkspaceRequest) -> HttpResponse:
    form = AuditPageForm(request.GET)
    context: dict[str, Any] = {
        "page_title": "Audit log",
        "nav": "audit",
        "form": form,
        "filtered": any(request.GET.get(name) for name in FILTER_NAMES),
    }
    if form.is_valid():
        qs = audit_events(workspace=request.workspace, filters=form.filters())
        page = audit_page(
            qs, size=PAGE_SIZE, before=form.cleaned_data["before"], after=form.cleaned_data["after"]
        )
        context["page"] = page
        context["rows"] = [
            {
                "event": event,
                "label": action_label(event.action),
                "sentence": describe(event),
                "changes": changes(event),
            }
            for event in page.events
        ]
    template = f"{TEMPLATE}#audit" if request.htmx else TEMPLATE
    # Invalid filters answer 200 with the errors beside the fields: htmx drops 4xx bodies.
    return TemplateResponse(request, template, context)


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_AUDIT)
def export(request: WorkspaceRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return TemplateResponse(
            request, TEMPLATE, {"page_title": "Audit log", "nav": "audit", "form": form}
        )
    ws = request.workspace
    qs = audit_events(workspace=ws, filters=form.filters())
    response = StreamingHttpResponse(
        _csv_lines(qs.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{ws.slug}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def csv_cell(value: object) -> str:
    """Text for one CSV cell, with formula triggers neutralized by a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    yield writer.writerow(CSV_HEADER)
    for e in events:
        yield writer.writerow(
            [
                csv_cell(e.created_at.astimezone(UTC).isoformat()),
                csv_cell(e.actor_label),
                csv_cell(e.action),
                csv_cell(e.target_type),
                csv_cell(e.target_id),
                csv_cell(e.target_repr),
                csv_cell(json.dumps(e.before, ensure_ascii=False, default=str) if e.before else ""),
                csv_cell(json.dumps(e.after, ensure_ascii=False, default=str) if e.after else ""),
                csv_cell(e.ip_address),
            ]
        )


class _LineBuffer:
    """A file-like object whose write returns the line, so csv.writer feeds a generator."""

    def write(self, value: str) -> str:
        return value
