"""The workspace's compliance pages (R-MEDIA-1, R-MEDIA-4, R-MEDIA-5): the Media Customer
status and its history, editorial-use requests, and the suspension with its appeals.

Admins and owners read and change the page; a suspended workspace's page can still be
read (``workspace_view`` lets GETs through) while its forms are refused. The appeal page
is the owners' and stays open to them while the workspace is suspended."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts.errors import DomainError
from accounts.roles import Perm, has_perm
from console.access import workspace_view

from . import services
from .forms import AppealForm, EditorialRequestForm, MediaDeclarationForm, answer
from .models import (
    MEDIA_CUSTOMER_DEFINITION,
    Appeal,
    AppealStatus,
    EditorialAuthorization,
    MediaSource,
    MediaStatusChange,
    RequestStatus,
)

INDEX = "compliance/index.html"
APPEAL = "compliance/appeal.html"
# Each list shows the latest rows; older ones stay in the audit log and the staff admin.
LIST_LIMIT = 25


def _partial(request: HttpRequest) -> bool:
    htmx = request.htmx  # type: ignore[attr-defined]
    return bool(htmx) and not htmx.history_restore_request


def _toast(response: HttpResponse, message: str) -> HttpResponse:
    trigger_client_event(response, "toast", {"message": message, "kind": "ok"})
    return response


def _latest(qs: Any) -> tuple[list[Any], bool]:
    """The first LIST_LIMIT rows, and whether there are more, in one query."""
    rows = list(qs[: LIST_LIMIT + 1])
    return rows[:LIST_LIMIT], len(rows) > LIST_LIMIT


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- The compliance page ------------------------------------------------------------------


def _appeals(request: HttpRequest) -> tuple[list[Appeal], bool]:
    return _latest(
        Appeal.objects.filter(workspace=request.workspace).select_related(  # type: ignore[attr-defined]
            "filed_by", "decided_by"
        )
    )


def _index_context(
    request: HttpRequest,
    *,
    declaration_form: MediaDeclarationForm | None = None,
    request_form: EditorialRequestForm | None = None,
) -> dict[str, Any]:
    ws = request.workspace  # type: ignore[attr-defined]
    history, more_history = _latest(
        MediaStatusChange.objects.filter(workspace=ws)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
    current = history[0] if history else None
    is_media = bool(current and current.is_media_customer)
    editorial, more_editorial = _latest(
        EditorialAuthorization.objects.filter(workspace=ws).select_related(
            "requested_by", "scope_group"
        )
    )
    appeals, more_appeals = _appeals(request)
    role = request.membership.role  # type: ignore[attr-defined]
    return {
        "page_title": "Media and compliance",
        "nav": "compliance",
        "definition": MEDIA_CUSTOMER_DEFINITION,
        "current": current,
        "is_media": is_media,
        "staff_locked": bool(is_media and current and current.source == MediaSource.STAFF),
        "history": history,
        "more_history": more_history,
        "editorial": editorial,
        "more_editorial": more_editorial,
        "pending_request": any(r.status == RequestStatus.PENDING for r in editorial),
        "today": timezone.now().date(),
        "appeals": appeals,
        "more_appeals": more_appeals,
        "pending_appeal": any(a.status == AppealStatus.PENDING for a in appeals),
        "can_change": has_perm(role, Perm.MANAGE_COMPLIANCE) and not ws.is_suspended,
        "can_appeal": has_perm(role, Perm.FILE_APPEAL),
        "declaration_form": declaration_form
        or MediaDeclarationForm(
            initial={"is_media_customer": answer(is_media)} if current else None
        ),
        "request_form": request_form or EditorialRequestForm(),
    }


def _media_answer(
    request: HttpRequest, *, ok: str = "", anchor: str = "", **forms: Any
) -> HttpResponse:
    """After a POST on the page: a plain request that succeeded is redirected (post,
    redirect, get); otherwise the page, or for htmx its Media Customer section, is
    rendered with the forms as they are."""
    if ok and not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, ok)
        return redirect(reverse("ws:compliance", args=[request.workspace.slug]) + anchor)  # type: ignore[attr-defined]
    template = f"{INDEX}#media-section" if request.htmx else INDEX  # type: ignore[attr-defined]
    response = TemplateResponse(request, template, _index_context(request, **forms))
    return _toast(response, ok) if ok else response


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.MANAGE_COMPLIANCE)
def index(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        template = f"{INDEX}#media-section" if _partial(request) else INDEX
        return TemplateResponse(request, template, _index_context(request))
    form = MediaDeclarationForm(request.POST)
    if not form.is_valid():
        return _media_answer(request, declaration_form=form)
    value = form.cleaned_data["is_media_customer"]
    try:
        change = services.media_status_set(
            actor=request.user,  # type: ignore[arg-type]
            workspace=request.workspace,  # type: ignore[attr-defined]
            is_media_customer=value,
            source=MediaSource.SELF,
            note="Declared in the console",
        )
    except DomainError as exc:
        _form_error(form, exc)
        return _media_answer(request, declaration_form=form)
    if change is None:
        ok = "Nothing changed: the declaration was already recorded."
    elif value:
        ok = "Recorded: the workspace is a Media Customer. Verified news is now blocked."
    else:
        ok = "Recorded: the workspace is not a Media Customer."
    return _media_answer(request, ok=ok)


@require_http_methods(["POST"])
@workspace_view(Perm.MANAGE_COMPLIANCE)
def editorial_request(request: HttpRequest) -> HttpResponse:
    form = EditorialRequestForm(request.POST)
    if not form.is_valid():
        return _media_answer(request, request_form=form)
    try:
        services.editorial_request_create(
            actor=request.user,  # type: ignore[arg-type]
            workspace=request.workspace,  # type: ignore[attr-defined]
            **form.cleaned_data,
        )
    except DomainError as exc:
        _form_error(form, exc)
        return _media_answer(request, request_form=form)
    return _media_answer(
        request,
        ok="Request sent: staff will review it and email you the decision.",
        anchor="#editorial",
    )


# --- The appeal page ----------------------------------------------------------------------


def _appeal_context(request: HttpRequest, form: AppealForm | None = None) -> dict[str, Any]:
    appeals, more = _appeals(request)
    return {
        "page_title": "Appeal the suspension",
        "nav": "compliance",
        "appeals": appeals,
        "more_appeals": more,
        "pending_appeal": any(a.status == AppealStatus.PENDING for a in appeals),
        "form": form or AppealForm(),
    }


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.FILE_APPEAL, allow_when_suspended=True)
def appeal(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        template = f"{APPEAL}#appeal-section" if _partial(request) else APPEAL
        return TemplateResponse(request, template, _appeal_context(request))
    form = AppealForm(request.POST)
    done = False
    if form.is_valid():
        try:
            services.appeal_file(
                actor=request.user,  # type: ignore[arg-type]
                workspace=request.workspace,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
            done = True
        except DomainError as exc:
            _form_error(form, exc)
    message = "Appeal filed: staff will review it and email the owners their decision."
    if done and not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, message)
        return redirect("ws:appeal", request.workspace.slug)  # type: ignore[attr-defined]
    template = f"{APPEAL}#appeal-section" if request.htmx else APPEAL  # type: ignore[attr-defined]
    response = TemplateResponse(request, template, _appeal_context(request, None if done else form))
    return _toast(response, message) if done else response
