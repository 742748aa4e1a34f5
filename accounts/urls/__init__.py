"""The accounts pages of a workspace, under /w/<slug>/. Each area keeps its own module;
``console.workspace_urls`` joins them with the other apps' pages in the "ws" namespace."""

from __future__ import annotations

from . import audit, domains, groups, invitations, members, workspace

urlpatterns = [
    *workspace.urlpatterns,
    *members.urlpatterns,
    *invitations.urlpatterns,
    *groups.urlpatterns,
    *domains.urlpatterns,
    *audit.urlpatterns,
]
