"""The share dialog of what members share with groups and members of their workspace
(agents, libraries): one page for plain requests, or a ``<dialog>`` that htmx opens in the
shared thing's page, whose search lists the matching groups and members as you type. Each
app keeps its own grants, roles and rules; the views describe the thing with a
``SharePicker`` and answer with ``show``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.template.response import TemplateResponse

from accounts.access import WorkspaceRequest
from accounts.selectors import ShareCandidates
from core.htmx import is_htmx

PAGE = "components/share_page.html"
# The id of the list of matches: the dialog's search asks for it alone.
RESULTS = "share-results"


@dataclass(frozen=True)
class SharePicker:
    # The name of what is shared, and what its roles allow.
    subject: str
    help: str
    # The shared thing's page; where the search asks and the choices post.
    back_url: str
    share_url: str
    # The id of the section of the thing's page that a share answers with, and the event
    # a share sends, on which the dialog's matches refresh their roles.
    sharing_id: str
    shared_event: str
    q: str
    candidates: ShareCandidates
    roles: Sequence[tuple[str, str]]
    error: str = ""


def show(
    request: WorkspaceRequest, picker: SharePicker, *, page_title: str, nav: str
) -> TemplateResponse:
    """The whole page for a plain request; for htmx, the dialog, or the matches alone when
    the dialog's search asks for them."""
    in_dialog = is_htmx(request)
    if not in_dialog:
        template = PAGE
    elif request.htmx.target == RESULTS:
        template = f"{PAGE}#{RESULTS}"
    else:
        template = f"{PAGE}#share-dialog"
    context = {"page_title": page_title, "nav": nav, "picker": picker, "in_dialog": in_dialog}
    return TemplateResponse(request, template, context)
