"""The libraries' pages (R-CON-5), under /w/<slug>/libraries/ (names "ws:libraries",
"ws:library", ...).

A member sees the libraries they created or hold a grant on while their ``libraries``
feature is allowed; admins see every library of the workspace. A library the member may
not see answers 404, as a missing one does. The managers' controls (edit, upload, share,
delete) show only to managers, and their posts answer 403 to anybody else; the services
check again. Downloads go through the document decision, admins included. HTMX requests get
the section they act on back plus a toast; plain form posts redirect (post, redirect, get).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts.access import WorkspaceRequest, workspace_view
from accounts.roles import Perm
from accounts.views import confirm
from accounts.views import share as share_dialog
from accounts.views.share import SharePicker
from core import htmx, registry
from core.errors import DomainError
from features.decisions import WorkspaceFacts, load_workspace_facts

from . import libraries
from .access import Viewer, access_library, decide_document, load_viewer
from .library_forms import LibraryForm, ShareForm, ShareSearchForm, UploadForm
from .models import Document, Library, LibraryRole

INDEX = "connectors/libraries.html"
DETAIL = "connectors/library.html"
PAGE_SIZE = 50
# How many of the members who can see a library the page names.
WHO_SHOWN = 20
# How many groups, and how many members, the share dialog lists for a search.
PICKER_SIZE = 10
NAV = "libraries"


def _admin(request: WorkspaceRequest) -> bool:
    return libraries.is_admin(request.membership.role)


def _url(request: WorkspaceRequest, name: str, *args: object) -> str:
    return reverse(f"ws:{name}", args=[request.workspace.slug, *args])


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- List ----------------------------------------------------------------------------


def _index_context(request: WorkspaceRequest, form: LibraryForm | None = None) -> dict[str, Any]:
    viewer = load_viewer(request.membership)
    admin = _admin(request)
    qs = libraries.library_list(viewer, admin=admin, user_id=request.user.pk)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    shown: list[Library] = list(page.object_list)
    held = libraries.held_roles(viewer, [lib.pk for lib in shown])
    rows = [
        (
            lib,
            libraries.decide_rights(
                admin=admin,
                feature=viewer.sees_libraries(),
                creator=lib.created_by_id == request.user.pk,
                roles=held[lib.pk],
            ),
        )
        for lib in shown
    ]
    gate = viewer.feature(registry.LIBRARIES)
    return {
        "page_title": "Libraries",
        "nav": NAV,
        "page": page,
        "rows": rows,
        "gate": gate,
        "may_create": viewer.sees_libraries(),
        "form": form or LibraryForm(),
    }


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def index(request: WorkspaceRequest) -> HttpResponse:
    template = htmx.template_for(request, INDEX, "libraries-section")
    return TemplateResponse(request, template, _index_context(request))


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def create(request: WorkspaceRequest) -> HttpResponse:
    form = LibraryForm(request.POST)
    if form.is_valid():
        try:
            library = libraries.library_create(
                actor=request.actor,
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Library {library.name} created.")
            return htmx.redirect(request, _url(request, "library", library.pk))
    template = htmx.template_for(request, INDEX, "libraries-section")
    return TemplateResponse(request, template, _index_context(request, form))


# --- One library ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    library: Library
    viewer: Viewer
    rights: libraries.Rights
    facts: WorkspaceFacts


def _seen(request: WorkspaceRequest, library_id: int, *, manage: bool = False) -> Seen:
    """The library as this member may reach it: 404 when they may not see it, 403 when
    ``manage`` and they only see it."""
    library = access_library(request.actor, library_id)
    # Loaded once for the member's decisions and for who else can see the library.
    facts = load_workspace_facts(request.workspace)
    viewer = load_viewer(request.membership, facts=facts)
    rights = libraries.rights_for(viewer, library, admin=_admin(request), user_id=request.user.pk)
    if not rights.sees:
        raise Http404("No such library.")
    if manage and not rights.manages:
        raise PermissionDenied(libraries.NOT_A_MANAGER)
    return Seen(library, viewer, rights, facts)


@dataclass(frozen=True)
class DocRow:
    doc: Document
    readable: bool
    type_label: str


def _type_label(doc: Document) -> str:
    kind = libraries.BY_MIME.get(doc.mime_type)
    return kind.ext.upper() if kind is not None else "File"


def _detail_context(
    request: WorkspaceRequest,
    seen: Seen,
    *,
    edit_form: LibraryForm | None = None,
    upload_form: UploadForm | None = None,
) -> dict[str, Any]:
    library, viewer = seen.library, seen.viewer
    # Admins list every document of the library; members, those the decision shows them.
    shown = libraries.library_documents(library, None if _admin(request) else viewer)
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    docs = [
        DocRow(doc, decide_document(viewer, doc).allowed, _type_label(doc))
        for doc in page.object_list
    ]
    gate = viewer.feature(registry.LIBRARIES)
    return {
        "page_title": library.name,
        "nav": NAV,
        "library": library,
        "rights": seen.rights,
        "detail_url": _url(request, "library", library.pk),
        "page": page,
        "docs": docs,
        "gate": gate,
        "edit_form": edit_form
        or LibraryForm(initial={"name": library.name, "description": library.description}),
        "upload_form": upload_form or UploadForm(),
        **_sharing_context(seen),
    }


def _sharing_context(seen: Seen) -> dict[str, Any]:
    who = libraries.who_can_see_library(seen.library, facts=seen.facts)
    return {
        "library": seen.library,
        "rights": seen.rights,
        "grants": libraries.grant_rows(seen.library),
        "who": who[:WHO_SHOWN],
        "who_count": len(who),
        "who_more": max(0, len(who) - WHO_SHOWN),
    }


# Pieces of the library's page that refresh themselves on the "library-changed" event, by
# the id htmx sends as the request's target; any other htmx request gets the documents.
REFRESHED_PARTS = {"library-title", "library-summary", "library-sharing"}


def _changed(response: HttpResponse) -> HttpResponse:
    trigger_client_event(response, "library-changed", {}, after="settle")
    return response


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def detail(request: WorkspaceRequest, library_id: int) -> HttpResponse:
    seen = _seen(request, library_id)
    context = _detail_context(request, seen)
    template = DETAIL
    if htmx.is_htmx(request):
        target = request.htmx.target
        part = target if target in REFRESHED_PARTS else "library-documents"
        template = f"{DETAIL}#{part}"
        context["refresh_title"] = part == "library-title"
    return TemplateResponse(request, template, context)


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def update(request: WorkspaceRequest, library_id: int) -> HttpResponse:
    seen = _seen(request, library_id, manage=True)
    form = LibraryForm(request.POST)
    library = seen.library
    done = False
    if form.is_valid():
        try:
            library = libraries.library_update(
                actor=request.actor,
                library_id=library.pk,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
            done = True
        except DomainError as exc:
            _form_error(form, exc)
    message = f"Library {library.name} saved."
    if done and not request.htmx:
        messages.success(request, message)
        return redirect(_url(request, "library", library.pk))
    seen = Seen(library, seen.viewer, seen.rights, seen.facts)
    context = _detail_context(request, seen, edit_form=None if done else form)
    template = htmx.template_for(request, DETAIL, "library-header")
    response = TemplateResponse(request, template, context)
    return _changed(htmx.toast(response, message)) if done else response


def _delete_confirmation(request: WorkspaceRequest, library: Library) -> confirm.Confirmation:
    count = libraries.library_documents(library).count()
    grants = len(libraries.grant_rows(library))
    losses = [
        f"Its {count} document{pluralize(count)} and their stored files."
        if count
        else "The library has no documents.",
        f"Its {grants} share{pluralize(grants)}: nobody sees its documents any more."
        if grants
        else "It is shared with nobody but its creator.",
    ]
    return confirm.Confirmation(
        title=f"Delete the library {library.name}?",
        action_url=_url(request, "library_delete", library.pk),
        button=f"Delete {library.name}",
        cancel_url=_url(request, "library", library.pk),
        losses=losses,
        kept=["The audit log keeps the record of the library and its documents."],
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def delete(request: WorkspaceRequest, library_id: int) -> HttpResponse:
    """Asks first, naming how many documents go; deletes only on the confirmed post."""
    seen = _seen(request, library_id, manage=True)
    library = seen.library
    if not confirm.is_confirmed(request):
        return confirm.ask(
            request,
            _delete_confirmation(request, library),
            page_title="Delete library",
            nav=NAV,
        )
    name = library.name
    count = libraries.library_delete(actor=request.actor, library_id=library.pk)
    messages.success(request, f"Library {name} deleted, with {count} document{pluralize(count)}.")
    return htmx.redirect(request, _url(request, "libraries"))


# --- Documents -----------------------------------------------------------------------


def _documents_answer(
    request: WorkspaceRequest, seen: Seen, *, ok: str = "", form: UploadForm | None = None
) -> HttpResponse:
    if ok and not request.htmx:
        messages.success(request, ok)
        return redirect(_url(request, "library", seen.library.pk))
    context = _detail_context(request, seen, upload_form=form)
    template = htmx.template_for(request, DETAIL, "library-documents")
    response = TemplateResponse(request, template, context)
    return _changed(htmx.toast(response, ok)) if ok else response


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def document_add(request: WorkspaceRequest, library_id: int) -> HttpResponse:
    seen = _seen(request, library_id, manage=True)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _documents_answer(request, seen, form=form)
    try:
        doc = libraries.library_document_add(
            actor=request.actor,
            library_id=seen.library.pk,
            uploaded_file=form.cleaned_data["file"],
        )
    except DomainError as exc:
        _form_error(form, exc)
        return _documents_answer(request, seen, form=form)
    return _documents_answer(request, seen, ok=f"{doc.title} added to {seen.library.name}.")


def _document(seen: Seen, document_id: int) -> Document:
    doc = libraries.library_document(seen.library, document_id)
    if doc is None:
        raise Http404("No such document.")
    return doc


@require_http_methods(["GET"])
@workspace_view(Perm.VIEW_WORKSPACE)
def document_download(
    request: WorkspaceRequest, library_id: int, document_id: int
) -> HttpResponseBase:
    """The stored file, only when the document decision allows it (404 otherwise), as an
    attachment with a type no browser renders as a page."""
    library = access_library(request.actor, library_id)
    doc = libraries.library_document(library, document_id)
    if doc is None or not doc.file:
        raise Http404("No such document.")
    if not decide_document(load_viewer(request.membership), doc).allowed:
        raise Http404("No such document.")
    try:
        stream = doc.file.open("rb")
    except OSError as exc:
        raise Http404("No such document.") from exc
    response = FileResponse(
        stream, as_attachment=True, filename=doc.title, content_type=libraries.served_type(doc)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def document_remove(request: WorkspaceRequest, library_id: int, document_id: int) -> HttpResponse:
    seen = _seen(request, library_id, manage=True)
    doc = _document(seen, document_id)
    if not confirm.is_confirmed(request):
        c = confirm.Confirmation(
            title=f"Remove {doc.title} from {seen.library.name}?",
            action_url=_url(request, "library_document_remove", seen.library.pk, doc.pk),
            button="Remove the document",
            cancel_url=_url(request, "library", seen.library.pk),
            losses=[f"The document {doc.title} and its stored file."],
            kept=["The library's other documents and its sharing."],
            hx_target=f"#doc-{doc.pk}",
        )
        return confirm.ask(request, c, page_title="Remove document", nav=NAV)
    libraries.library_document_remove(
        actor=request.actor, library_id=seen.library.pk, document_id=doc.pk
    )
    message = f"{doc.title} removed from {seen.library.name}."
    if request.htmx:
        # The row asked: it disappears, and the counts refresh.
        return _changed(htmx.toast(HttpResponse(""), message))
    messages.success(request, message)
    return redirect(_url(request, "library", seen.library.pk))


# --- Sharing -------------------------------------------------------------------------


def _share_page(request: WorkspaceRequest, seen: Seen, error: str = "") -> HttpResponse:
    library = seen.library
    q = ShareSearchForm(request.GET).query()
    picker = SharePicker(
        subject=library.name,
        help="Viewers see and download its documents; editors also add and remove documents, "
        "share it and delete it.",
        back_url=_url(request, "library", library.pk),
        share_url=_url(request, "library_share", library.pk),
        sharing_id="library-sharing",
        shared_event="library-shared",
        q=q,
        candidates=libraries.share_candidates(library, q, limit=PICKER_SIZE),
        roles=LibraryRole.choices,
        error=error,
    )
    return share_dialog.show(request, picker, page_title=f"Share {library.name}", nav=NAV)


def _sharing_answer(request: WorkspaceRequest, seen: Seen, ok: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, ok)
        return redirect(_url(request, "library", seen.library.pk) + "#library-sharing")
    template = f"{DETAIL}#library-sharing"
    response = TemplateResponse(request, template, _sharing_context(seen))
    # The share dialog's list of matches shows the roles held now.
    trigger_client_event(response, "library-shared", {}, after="settle")
    return htmx.toast(response, ok)


@require_http_methods(["GET", "POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def share(request: WorkspaceRequest, library_id: int) -> HttpResponse:
    """GET: the share dialog (a page without JavaScript) searching groups and members; its
    list of matches alone for the dialog's search. POST: share with the chosen target."""
    seen = _seen(request, library_id, manage=True)
    if request.method == "GET":
        return _share_page(request, seen)
    form = ShareForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            grant = libraries.library_share(
                actor=request.actor,
                library_id=seen.library.pk,
                target=form.cleaned_data["target"],
                role=form.cleaned_data["role"],
            )
        except DomainError as exc:
            error = exc.message
        else:
            role = grant.get_role_display().lower()
            return _sharing_answer(request, seen, f"{seen.library.name} shared as {role}.")
    else:
        error = str(next(iter(form.errors.values()))[0])
    if request.htmx:
        return htmx.toast(HttpResponse(status=204), error, "error")
    return _share_page(request, seen, error)


@require_http_methods(["POST"])
@workspace_view(Perm.VIEW_WORKSPACE)
def unshare(request: WorkspaceRequest, library_id: int, grant_id: int) -> HttpResponse:
    seen = _seen(request, library_id, manage=True)
    try:
        libraries.library_unshare(
            actor=request.actor, library_id=seen.library.pk, grant_id=grant_id
        )
    except DomainError as exc:
        raise Http404(exc.message) from exc
    return _sharing_answer(request, seen, f"Sharing of {seen.library.name} narrowed.")
