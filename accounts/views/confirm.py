"""Confirmation of destructive actions (removing a member, revoking an invitation,
deleting a group, ...): one page, or one dialog, that names what will be lost.

A view asks with ``ask`` until the request is a POST carrying the confirm field; only
then does it act. A plain GET or POST gets the whole confirmation page, so the action
works without JavaScript; an HTMX request gets the ``<dialog>`` partial, which the
console's script opens as a modal in the page (``#dialog-host`` in the shell). Either
way, the form inside posts the confirm field back to the same URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers

from core.htmx import is_htmx

CONFIRM_FIELD = "confirmed"
PAGE = "components/confirm_page.html"


@dataclass(frozen=True)
class Confirmation:
    title: str
    action_url: str
    button: str
    cancel_url: str
    # What the action takes away, one item per line; and what it leaves in place.
    losses: Sequence[str] = ()
    kept: Sequence[str] = ()
    # Where htmx puts the answer of the confirmed post. Empty: the dialog's form posts
    # as a plain form, for actions that end on another page (leaving, deleting the
    # group whose page is open).
    hx_target: str = ""
    hx_swap: str = "outerHTML"
    hidden: Mapping[str, str] = field(default_factory=dict)


def is_confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == "1"


def ask(
    request: HttpRequest, confirmation: Confirmation, *, page_title: str, nav: str
) -> TemplateResponse:
    """The confirmation: the dialog for an HTMX request, the page otherwise."""
    partial = is_htmx(request)
    response = TemplateResponse(
        request,
        f"{PAGE}#dialog" if partial else PAGE,
        {
            "page_title": page_title,
            "nav": nav,
            "c": confirmation,
            "confirm_field": CONFIRM_FIELD,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response
