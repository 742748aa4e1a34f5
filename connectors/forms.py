"""Input of the connected services' pages: a connection's settings, the document lists'
searches and filters, and the "why" page's choice of a member and a document. The
services check the rules; these forms parse and bound what comes in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms

from accounts.models import Workspace
from core.parsing import IdField

from . import selectors, services
from .models import Connection, HiddenDomainShares, LinkShares

INTERVAL_MINUTES = (
    int(services.MIN_INTERVAL.total_seconds() // 60),
    int(services.MAX_INTERVAL.total_seconds() // 60),
)
STALENESS_HOURS = (
    int(services.MIN_STALENESS.total_seconds() // 3600),
    int(services.MAX_STALENESS.total_seconds() // 3600),
)
SEARCH_LABEL = "Search titles"

LINK_SHARES_HELP = (
    "A file shared with “anyone with the link” does not say who holds the link. By default "
    "it reaches nobody here beyond the people and groups it is shared with by name: the "
    "console fails closed. Choose the whole workspace only if every member may see every "
    "such file."
)
HIDDEN_DOMAIN_HELP = (
    "A file shared with a domain but not listed for it can be opened by people of the "
    "domain who have its link. By default it reaches nobody here beyond the people and "
    "groups it is shared with by name."
)


def _search(label: str = SEARCH_LABEL, placeholder: str = "Title") -> forms.CharField:
    # CharField refuses NUL characters itself ("Null characters are not allowed.").
    return forms.CharField(
        label=label,
        required=False,
        max_length=selectors.SEARCH_MAX,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": placeholder, "autocomplete": "off"}
        ),
    )


def _mapping(
    label: str, choices: list[tuple[str, str]], help_text: str, error: str
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"invalid_choice": error, "required": error},
    )


def _picked(what: str) -> IdField:
    """An id picked from a list (the why page's member or document)."""
    error = f"Choose a {what} from the list."
    return IdField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": error, "min_value": error, "max_value": error},
    )


def _cursor() -> forms.CharField:
    # A position in the list; a value that names none starts at the newest.
    return forms.CharField(required=False, max_length=45, widget=forms.HiddenInput)


class ConnectionSettingsForm(forms.Form):
    sync_interval = forms.IntegerField(
        label="Sync every (minutes)",
        min_value=INTERVAL_MINUTES[0],
        max_value=INTERVAL_MINUTES[1],
        help_text="From 15 minutes to 7 days (10080 minutes).",
        error_messages={
            "min_value": services.INTERVAL_RANGE,
            "max_value": services.INTERVAL_RANGE,
            "invalid": "Enter the interval as a whole number of minutes.",
            "required": "Enter the interval as a whole number of minutes.",
        },
    )
    staleness_limit = forms.IntegerField(
        label="Hide documents after (hours without a successful sync)",
        min_value=STALENESS_HOURS[0],
        max_value=STALENESS_HOURS[1],
        help_text=(
            "From 1 hour to 30 days (720 hours), and longer than the interval. Past it, "
            "members see none of this connection's documents until a sync succeeds, since "
            "the permissions may have changed at the source."
        ),
        error_messages={
            "min_value": services.STALENESS_RANGE,
            "max_value": services.STALENESS_RANGE,
            "invalid": "Enter the limit as a whole number of hours.",
            "required": "Enter the limit as a whole number of hours.",
        },
    )
    link_shares = _mapping(
        "Files shared with anyone who has the link",
        LinkShares.choices,
        LINK_SHARES_HELP,
        "Choose how link shares map.",
    )
    hidden_domain_shares = _mapping(
        "Files shared with a domain but not listed for it",
        HiddenDomainShares.choices,
        HIDDEN_DOMAIN_HELP,
        "Choose how hidden domain shares map.",
    )

    @classmethod
    def for_connection(cls, conn: Connection) -> ConnectionSettingsForm:
        return cls(
            initial={
                "sync_interval": max(1, round(conn.sync_interval.total_seconds() / 60)),
                "staleness_limit": max(1, round(conn.staleness_limit.total_seconds() / 3600)),
                "link_shares": conn.link_shares,
                "hidden_domain_shares": conn.hidden_domain_shares,
            }
        )

    def change(self) -> services.SettingsChange:
        data = self.cleaned_data
        return services.SettingsChange(
            sync_interval=timedelta(minutes=data["sync_interval"]),
            staleness_limit=timedelta(hours=data["staleness_limit"]),
            link_shares=data["link_shares"],
            hidden_domain_shares=data["hidden_domain_shares"],
        )


class TitleSearchForm(forms.Form):
    """The search of a member's documents: a title, and where the page starts."""

    q = _search()
    cursor = _cursor()

    def query(self) -> str:
        return str(getattr(self, "cleaned_data", {}).get("q") or "")

    def position(self) -> str:
        return str(getattr(self, "cleaned_data", {}).get("cursor") or "")


class DocumentFilterForm(TitleSearchForm):
    """The admins' list of every document: a title, a connection, a library."""

    # Plain (id, name) choices scoped to the workspace: another workspace's id, or one no
    # row can have, is "not one of the available choices" before any query of documents.
    connection = forms.TypedChoiceField(
        label="Connection", required=False, coerce=int, empty_value=None, choices=[]
    )
    library = forms.TypedChoiceField(
        label="Library", required=False, coerce=int, empty_value=None, choices=[]
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["connection"]).choices = [
            ("", "Any connection"),
            *selectors.connection_choices(workspace).values_list("id", "display_name"),
        ]
        libraries = list(selectors.library_choices(workspace).values_list("id", "name"))
        cast(forms.ChoiceField, self.fields["library"]).choices = [("", "Any library"), *libraries]
        self.has_libraries = bool(libraries)

    def filters(self) -> dict[str, Any]:
        data = getattr(self, "cleaned_data", {})
        return {
            "q": data.get("q") or "",
            "connection_id": data.get("connection"),
            "library_id": data.get("library"),
        }


class WhoSearchForm(forms.Form):
    """The search and page of "who can see it"."""

    q = _search("Find a member", "Email or name")


class WhyForm(forms.Form):
    """The "why" page: a member and a document, each chosen by id or searched for."""

    member = _picked("member")
    document = _picked("document")
    mq = _search("Member", "Email or name")
    dq = _search("Document", "Title")

    def value(self, name: str) -> Any:
        return getattr(self, "cleaned_data", {}).get(name)
