from __future__ import annotations

from django.urls import path

from accounts.views import invitations as views

urlpatterns = [
    path("invitations/", views.index, name="invitations"),
    path("invitations/<int:pk>/resend/", views.resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", views.revoke, name="invitation_revoke"),
]
