"""Every page of a workspace, under /w/<slug>/. Each area keeps its own module."""

from __future__ import annotations

from . import audit, domains, groups, invitations, members, workspace

app_name = "ws"
urlpatterns = [
    *workspace.urlpatterns,
    *members.urlpatterns,
    *invitations.urlpatterns,
    *groups.urlpatterns,
    *domains.urlpatterns,
    *audit.urlpatterns,
]
