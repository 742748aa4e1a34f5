"""Reactions to allauth's signals: a verified email may join workspaces by domain."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import email_confirmed, user_logged_in
from django.dispatch import receiver

from . import services


@receiver(email_confirmed)
def join_by_domain_on_confirm(
    sender: object, request: Any, email_address: Any, **kwargs: Any
) -> None:
    services.domain_autojoin(user=email_address.user)


@receiver(user_logged_in)
def join_by_domain_on_login(sender: object, request: Any, user: Any, **kwargs: Any) -> None:
    services.domain_autojoin(user=user)
