from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts.views import invitations as invitation_views
from connectors.urls import callback_urlpatterns as connector_callbacks
from console import health, legal, views

# The admin's login goes through allauth: its rate limits and MFA apply to staff too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Console staff"
admin.site.site_title = "Console staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("legal/terms/", legal.terms, name="legal_terms"),
    path("legal/privacy/", legal.privacy, name="legal_privacy"),
    path("workspaces/new/", views.workspace_create, name="workspace_create"),
    path("invitations/<str:token>/", invitation_views.accept, name="invitation_accept"),
    path("w/<slug:slug>/", include("console.workspace_urls")),
    # The providers' fixed redirect URIs (the workspace comes from the session).
    *connector_callbacks,
    path("api/service/", include("api.urls")),
    # The local outbox: answers 404 unless DEBUG is on.
    path("dev/outbox/", include("core.urls")),
]

# Under /api/ both answer the service API's JSON envelope (api.views).
handler400 = "console.views.bad_request"
handler404 = "console.views.page_not_found"
