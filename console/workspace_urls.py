"""Every page of a workspace, under /w/<slug>/, in one "ws" namespace: each app lists its
own pages, and this module joins them (accounts imports no app above it)."""

from __future__ import annotations

import accounts.urls
import agents.urls
import billing.urls
import compliance.urls
import connectors.library_urls
import connectors.urls
import features.urls

app_name = "ws"
urlpatterns = [
    *accounts.urls.urlpatterns,
    *billing.urls.urlpatterns,
    *features.urls.urlpatterns,
    *compliance.urls.urlpatterns,
    *connectors.urls.urlpatterns,
    *connectors.library_urls.urlpatterns,
    *agents.urls.urlpatterns,
]
