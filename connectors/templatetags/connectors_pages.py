"""How the connected services' pages show times, durations and kinds of document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from connectors.selectors import safe_web_url

register = template.Library()


@register.filter
def utc_when(value: datetime | None) -> SafeString | str:
    """A time as 10:42 UTC (3 hours ago) when it is today, with its date before it
    otherwise; the exact time in the ``<time>`` element."""
    if value is None:
        return "never"
    now = timezone.now()
    at = value.astimezone(UTC)
    shown = (
        at.strftime("%H:%M UTC")
        if at.date() == now.astimezone(UTC).date()
        else at.strftime("%Y-%m-%d %H:%M UTC")
    )
    if at <= now:
        age = (
            "just now" if now - at < timedelta(minutes=1) else f"{timesince(at, now, depth=1)} ago"
        )
    else:
        age = f"in {timesince(now, at, depth=1)}"
    return format_html(
        '<time datetime="{}" title="{}">{}</time> <span class="muted">({})</span>',
        at.isoformat(),
        at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        shown,
        age,
    )


@register.filter
def duration(value: timedelta | None) -> str:
    """A run's length: "4 s", "2 min 5 s", "1 h 12 min"."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter
def run_length(run: object) -> str:
    """How long a run took, or has been running."""
    started = getattr(run, "started_at", None)
    if started is None:
        return ""
    finished = getattr(run, "finished_at", None)
    if finished is None:
        # An interrupted run stopped at its last heartbeat; a running one is still going.
        running = getattr(run, "status", "") == "running"
        finished = timezone.now() if running else getattr(run, "heartbeat_at", None) or started
    return duration(finished - started)


MIME_NAMES = {
    "application/pdf": "PDF",
    "text/plain": "Text",
    "text/csv": "CSV",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
}


@register.filter
def doc_type(doc: object) -> str:
    """What kind of document it is, in a word or two."""
    if getattr(doc, "kind", "") == "folder":
        return "Folder"
    mime = str(getattr(doc, "mime_type", "") or "")
    if mime.startswith("application/vnd.google-apps."):
        return "Google " + mime.rsplit(".", 1)[-1].capitalize()
    if mime in MIME_NAMES:
        return MIME_NAMES[mime]
    if "/" in mime:
        return mime.split("/", 1)[1].split(".")[-1][:20].upper()
    return "File"


@register.filter
def web_link(url: str) -> str:
    """The address, when it is a web address; empty otherwise (never a ``javascript:``)."""
    return safe_web_url(str(url or ""))
