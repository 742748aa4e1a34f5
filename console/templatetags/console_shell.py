"""The shell's side navigation, rendered once per workspace, role and page in each process:
it is on every workspace page, and its links and the headings a role sees depend on nothing
else."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe

from accounts.roles import Perm, has_perm

register = template.Library()


def _render(slug: str, role: int, nav: str) -> str:
    can = {p.value: has_perm(role, p) for p in Perm}
    return render_to_string("components/sidenav.html", {"slug": slug, "can": can, "nav": nav})


@lru_cache(maxsize=4096)
def _kept(urlconf: object, prefix: str, slug: str, role: int, nav: str) -> str:
    return _render(slug, role, nav)


@register.simple_tag
def sidenav(slug: str, role: int | None, nav: str | None) -> SafeString:
    """The side navigation of the workspace ``slug`` for a member of ``role``, ``nav`` the
    current page's entry. The URLs it holds follow the URL configuration and the script
    prefix in force, which are part of what it is kept under."""
    if role is None:
        return mark_safe("")
    # With DEBUG, templates are read again on each use (an edited one shows at once): so is
    # this one. The template escapes what it shows; the slug is a slug.
    if settings.DEBUG:
        return mark_safe(_render(slug, role, nav or ""))  # noqa: S308
    return mark_safe(_kept(get_urlconf(), get_script_prefix(), slug, role, nav or ""))  # noqa: S308
