"""The audit actions of Media Customer status, editorial use, violations and appeals."""

from __future__ import annotations

from core.audit import Actions


class Action(Actions):
    MEDIA_STATUS_CHANGED = "media_status.changed"
    EDITORIAL_REQUESTED = "editorial_request.created"
    EDITORIAL_DECIDED = "editorial_request.decided"
    NEWS_VIOLATION_RECORDED = "news_violation.recorded"
    APPEAL_FILED = "appeal.filed"
    APPEAL_DECIDED = "appeal.decided"
