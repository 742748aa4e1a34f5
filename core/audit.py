"""Writing the audit log (R-WS-8). Services call ``record`` inside their transaction.

Each app declares its own actions as a subclass of ``Actions``; the subclass registers
its codes here, so the audit page's filter lists every action of every app without this
module knowing the apps. Values in ``before`` and ``after`` are raw (role codes, states),
and the pages turn them into labels.

The event model is named by the ``AUDIT_EVENT_MODEL`` setting, as Django names its user
model, so that this module sits below the app that stores the log.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.module_loading import autodiscover_modules

from .context import current_ip


class Actions:
    """Base of each app's action codes: ``class Action(Actions): GROUP_CREATED = "..."``."""

    _codes: ClassVar[dict[str, type[Actions]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in vars(cls).items():
            if name.isupper() and isinstance(value, str):
                owner = Actions._codes.get(value)
                if owner is not None and owner.__module__ != cls.__module__:
                    raise ValueError(f"Audit action {value!r} is declared twice.")
                Actions._codes[value] = cls

    @classmethod
    def choices(cls) -> list[str]:
        """Every registered code, sorted (of all apps when called on ``Actions``)."""
        if cls is Actions:
            return sorted(Actions._codes)
        return sorted(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str))


def all_actions() -> list[str]:
    """Every app's action codes: each app's ``audit`` module is imported first, as the
    admin finds each app's ``admin`` module."""
    autodiscover_modules("audit")
    return Actions.choices()


def _event_model() -> type[models.Model]:
    return apps.get_model(settings.AUDIT_EVENT_MODEL)


def record(
    *,
    actor: Any | None,
    workspace: Any | None,
    action: str,
    target: models.Model | None = None,
    target_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> models.Model:
    """Append one event. ``actor`` is the acting user (None for the system); an object
    with an ``audit_user`` attribute (the typed actor of ``accounts.actor``) is read
    through it."""
    user = getattr(actor, "audit_user", actor)
    return _event_model()._default_manager.create(
        workspace=workspace,
        workspace_name=workspace.name if workspace is not None else "",
        actor=user,
        actor_email=user.email if user is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=(target_repr or (str(target) if target is not None else ""))[:300],
        before=before or {},
        after=after or {},
        ip_address=current_ip.get(),
    )
