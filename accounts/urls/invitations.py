from __future__ import annotations

from django.urls import path

import core.converters  # noqa: F401  (registers <id:...>)
from accounts.views import invitations as views

urlpatterns = [
    path("invitations/", views.index, name="invitations"),
    path("invitations/<id:pk>/resend/", views.resend, name="invitation_resend"),
    path("invitations/<id:pk>/revoke/", views.revoke, name="invitation_revoke"),
]
