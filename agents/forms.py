"""Input of the agents' pages. The rules of names, models, tools, sources and ranges are
the services' (``agents.services``, ``agents.names``); the forms parse and bound the input,
offer the workspace's own choices and show the errors beside the fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from catalogue.models import BaseModel, ModelRef
from core.parsing import is_storable_text, parse_id

from . import names, services, tools
from .models import (
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    NAME_MAX,
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
    TOP_P_MAX,
    TOP_P_MIN,
    GrantRole,
    Visibility,
    WorkspaceSharing,
)
from .services import ShareTarget, TargetKind

SEARCH_MAX = 100
MODEL_NOT_OFFERED = "Choose a model of the workspace's plan."
UNKNOWN_SOURCE = "Choose libraries and connections of this workspace."


def _decimal_field(label: str, low: Decimal, high: Decimal, message: str, initial: Decimal) -> Any:
    return forms.DecimalField(
        label=label,
        min_value=low,
        max_value=high,
        max_digits=3,
        decimal_places=2,
        initial=initial,
        help_text=f"From {low} to {high}.",
        error_messages={
            "required": message,
            "invalid": services.NUMBER_INVALID,
            "min_value": message,
            "max_value": message,
            "max_digits": services.NUMBER_INVALID,
            "max_decimal_places": services.NUMBER_INVALID,
            "max_whole_digits": services.NUMBER_INVALID,
        },
        widget=forms.NumberInput(attrs={"step": "0.01", "min": str(low), "max": str(high)}),
    )


class AgentForm(forms.Form):
    """The builder: the agent's name and description and one version's configuration.
    ``models`` are those the workspace's plan offers; ``libraries`` and ``connections`` the
    workspace's own, by id (``agents.sources``)."""

    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX,
        strip=False,
        error_messages={"required": names.NAME_EMPTY, "max_length": names.NAME_TOO_LONG},
        help_text=f"1 to {NAME_MAX} characters, unique in the workspace.",
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=services.DESCRIPTION_MAX,
        error_messages={"max_length": services.DESCRIPTION_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    model = forms.ChoiceField(
        label="Model",
        error_messages={"required": MODEL_NOT_OFFERED, "invalid_choice": MODEL_NOT_OFFERED},
    )
    instructions = forms.CharField(
        label="Instructions",
        required=False,
        strip=False,
        max_length=services.INSTRUCTIONS_MAX,
        error_messages={"max_length": services.INSTRUCTIONS_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    tools = forms.MultipleChoiceField(
        label="Tools",
        required=False,
        choices=tools.CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": services.UNKNOWN_TOOL},
    )
    libraries = forms.TypedMultipleChoiceField(
        label="Libraries",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": services.FOREIGN_LIBRARY},
    )
    connections = forms.TypedMultipleChoiceField(
        label="Connections",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": services.FOREIGN_CONNECTION},
    )
    temperature = _decimal_field(
        "Temperature",
        TEMPERATURE_MIN,
        TEMPERATURE_MAX,
        services.TEMPERATURE_RANGE,
        DEFAULT_TEMPERATURE,
    )
    top_p = _decimal_field("Top p", TOP_P_MIN, TOP_P_MAX, services.TOP_P_RANGE, DEFAULT_TOP_P)
    max_tokens = forms.IntegerField(
        label="Max tokens",
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text="Empty: the model's own default; at most the model's context window.",
        error_messages={
            "invalid": services.MAX_TOKENS_RANGE.format(limit=10_000_000),
            "min_value": services.MAX_TOKENS_RANGE.format(limit=10_000_000),
            "max_value": services.MAX_TOKENS_RANGE.format(limit=10_000_000),
        },
    )

    def __init__(
        self,
        *args: Any,
        models: list[BaseModel],
        libraries: dict[int, str],
        connections: dict[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.models_by_id = {m.model_id: m for m in models}
        choice = self.fields["model"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [("", "Choose a model")] + [
            (m.model_id, f"{m.name} ({m.model_id})") for m in models
        ]
        for key, rows in (("libraries", libraries), ("connections", connections)):
            field = self.fields[key]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(pk, label) for pk, label in rows.items()]

    def config(self) -> services.Config:
        data = self.cleaned_data
        return services.Config(
            model=self.model_ref(),
            instructions=data["instructions"],
            tools=tuple(data["tools"]),
            library_ids=tuple(data["libraries"]),
            connection_ids=tuple(data["connections"]),
            temperature=data["temperature"],
            max_tokens=data["max_tokens"],
            top_p=data["top_p"],
        )

    def model_ref(self) -> ModelRef:
        return ModelRef.of(self.models_by_id[self.cleaned_data["model"]])


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        error_messages={
            "required": services.UNKNOWN_VISIBILITY,
            "invalid_choice": services.UNKNOWN_VISIBILITY,
        },
    )


class ShareForm(forms.Form):
    """Whom to share with, as "member:<id>" or "group:<id>", and the role."""

    target = forms.CharField(max_length=40, error_messages={"required": services.UNKNOWN_TARGET})
    role = forms.ChoiceField(
        choices=GrantRole.choices,
        initial=GrantRole.VIEWER,
        error_messages={
            "required": services.UNKNOWN_ROLE,
            "invalid_choice": services.UNKNOWN_ROLE,
        },
    )

    def clean_target(self) -> ShareTarget:
        kind, _, raw = self.cleaned_data["target"].partition(":")
        pk = parse_id(raw)
        if kind not in {k.value for k in TargetKind} or pk is None:
            raise forms.ValidationError(services.UNKNOWN_TARGET)
        return ShareTarget(TargetKind(kind), pk)


class SearchForm(forms.Form):
    """A search box (the share dialog's, "who can use it"'s)."""

    q = forms.CharField(label="Search", required=False, max_length=SEARCH_MAX)

    def query(self) -> str:
        q = self.cleaned_data.get("q", "") if self.is_valid() else ""
        return q.strip() if is_storable_text(q) else ""


class ListForm(SearchForm):
    """The agents list's search and filters; a value not offered is no filter."""

    tab = forms.CharField(required=False, max_length=10)
    model = forms.CharField(label="Model", required=False, max_length=128)
    tool = forms.ChoiceField(
        label="Tool", required=False, choices=[("", "Any tool"), *tools.CHOICES]
    )

    def value(self, key: str) -> str:
        if not self.is_valid():
            return ""
        raw = self.cleaned_data.get(key, "") or ""
        return raw if is_storable_text(raw) else ""


class AgentSettingsForm(forms.Form):
    """The workspace's agent settings, beyond the terms' default."""

    default_visibility = forms.ChoiceField(
        label="New agents are visible to",
        choices=Visibility.choices,
        help_text="The terms' default is the whole workspace; the creator can change it per agent.",
    )
    workspace_sharing = forms.ChoiceField(
        label="Who may share an agent with the whole workspace",
        choices=WorkspaceSharing.choices,
    )
