"""The shell's side navigation, rendered once per workspace, role and page in each process:
it is on every workspace page, and its links and the headings a role sees depend on nothing
else."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe

from accounts.roles import Perm, has_perm

register = template.Library()


@lru_cache(maxsize=4096)
def _sidenav(urlconf: object, prefix: str, slug: str, role: int, nav: str) -> str:
    can = {p.value: has_perm(role, p) for p in Perm}
    return render_to_string("components/sidenav.html", {"slug": slug, "can": can, "nav": nav})


@register.simple_tag
def sidenav(slug: str, role: int | None, nav: str | None) -> SafeString:
    """The side navigation of the workspace ``slug`` for a member of ``role``, ``nav`` the
    current page's entry. The URLs it holds follow the URL configuration and the script
    prefix in force, which are part of what it is kept under."""
    if role is None:
        return mark_safe("")
    # The template escapes what it shows; the slug is a slug.
    return mark_safe(_sidenav(get_urlconf(), get_script_prefix(), slug, role, nav or ""))  # noqa: S308
