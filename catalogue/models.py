"""The model catalogue: the base models the platform serves, as data staff edit in the
admin (capabilities, lifecycle, which plans offer them), and the one reference by which
an agent, a key or a job names a model.

The catalogue sits at the bottom of the dependency graph beside ``accounts``, so every app
may read it; it imports only ``core``. Plans live in ``billing``, above it: a model names
the plans that offer it by their slugs (``ModelOffer``), and billing, which knows both,
keeps the slugs fixed and gives the admin the list of plans (``catalogue.offers``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

MODEL_ID_HELP = "Lowercase letters, digits and single hyphens, starting with a letter."
model_id_validator = RegexValidator(
    r"\A[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z",
    f"Enter a valid model id, e.g. mistral-large-2411: {MODEL_ID_HELP.lower()}",
)
# The platform's ids of fine-tuned models: "ft:" then the base model's id, then parts of
# letters, digits, "_" or "-" (e.g. ft:open-mistral-7b:587a6b29:20240514:7e773925).
FINE_TUNED_PREFIX = "ft:"
fine_tuned_id_validator = RegexValidator(
    r"\Aft:[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?::[A-Za-z0-9_-]+){1,4}\Z",
    "Enter a valid fine-tuned model id, e.g. ft:mistral-small-2503:acme:20250101:a1b2c3d4.",
)

RETIREMENT_DATE_NEEDED = "A deprecated or retired model needs its retirement date."
NO_RETIREMENT_DATE = "Only a deprecated or retired model has a retirement date."


class Kind(models.TextChoices):
    CHAT = "chat", "Chat"
    REASONING = "reasoning", "Reasoning"
    CODE = "code", "Code"
    VISION = "vision", "Vision"
    EMBEDDING = "embedding", "Embedding"
    MODERATION = "moderation", "Moderation"
    OCR = "ocr", "Document OCR"
    AUDIO = "audio", "Audio"


class Lifecycle(models.TextChoices):
    """Available, then deprecated (still served, with a warning, until its retirement
    date), then retired (no longer served)."""

    AVAILABLE = "available", "Available"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class BaseModel(models.Model):
    """A model the platform serves, as the platform's API names it."""

    model_id = models.CharField(
        "model id",
        max_length=64,
        unique=True,
        validators=[model_id_validator],
        help_text=f"The id the API takes, e.g. mistral-large-2411. {MODEL_ID_HELP}",
    )
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.TextField(blank=True)
    context_window = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="In tokens."
    )
    supports_tools = models.BooleanField("function calling", default=False)
    supports_vision = models.BooleanField("image input", default=False)
    supports_json_mode = models.BooleanField("JSON mode", default=False)
    fine_tunable = models.BooleanField(default=False)
    lifecycle = models.CharField(
        max_length=10, choices=Lifecycle.choices, default=Lifecycle.AVAILABLE
    )
    # The first day the model is no longer served: ahead for a deprecated model, behind for
    # a retired one. A deprecated model whose date has come is treated as retired.
    retirement_date = models.DateField(
        null=True, blank=True, help_text="Required for a deprecated or retired model."
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = "base model"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(context_window__gte=1), name="catalogue_context_window_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(lifecycle=Lifecycle.AVAILABLE)
                | models.Q(retirement_date__isnull=False),
                name="catalogue_retirement_date_unless_available",
                violation_error_message=RETIREMENT_DATE_NEEDED,
            ),
            models.CheckConstraint(
                condition=~models.Q(lifecycle=Lifecycle.AVAILABLE)
                | models.Q(retirement_date__isnull=True),
                name="catalogue_no_retirement_date_when_available",
                violation_error_message=NO_RETIREMENT_DATE,
            ),
            models.CheckConstraint(
                condition=models.Q(lifecycle__in=Lifecycle.values), name="catalogue_lifecycle_known"
            ),
        ]

    def __str__(self) -> str:
        return self.model_id

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        """The lifecycle constraints above, with the message beside the date. Here rather
        than in ``clean()``, which would also run when a form has refused the date
        already (the form's value then never reaches the model) and say it twice."""
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        skipped = {*(exclude or ()), *errors}
        if not {"lifecycle", "retirement_date"} & skipped:
            if self.lifecycle == Lifecycle.AVAILABLE and self.retirement_date is not None:
                errors["retirement_date"] = [NO_RETIREMENT_DATE]
            elif self.lifecycle != Lifecycle.AVAILABLE and self.retirement_date is None:
                errors["retirement_date"] = [RETIREMENT_DATE_NEEDED]
        if errors:
            raise ValidationError(errors)

    def is_retired_on(self, day: date) -> bool:
        """Whether the model is out of service on ``day``: retired, or deprecated with its
        retirement date come."""
        if self.lifecycle == Lifecycle.RETIRED:
            return True
        return self.retirement_date is not None and self.retirement_date <= day

    @property
    def plan_slugs(self) -> frozenset[str]:
        """The plans that offer the model (one query, none when ``offers`` is prefetched or
        the model is not saved yet)."""
        if self.pk is None:
            return frozenset()
        return frozenset(offer.plan_slug for offer in self.offers.all())


class ModelOffer(models.Model):
    """A plan offers a model. The plan is named by its slug: plans live in ``billing``,
    above the catalogue, which keeps its slugs fixed once made."""

    model = models.ForeignKey(BaseModel, on_delete=models.CASCADE, related_name="offers")
    plan_slug = models.SlugField(max_length=40)

    class Meta:
        ordering = ["model", "plan_slug"]
        verbose_name = "plan offer"
        constraints = [
            models.UniqueConstraint(fields=["model", "plan_slug"], name="catalogue_offer_once")
        ]
        # "The models of a plan" reads by slug; the unique index above starts with the model.
        indexes = [models.Index(fields=["plan_slug", "model"], name="catalogue_offer_by_plan")]

    def __str__(self) -> str:
        return f"{self.model} on {self.plan_slug}"


# --- The one model reference -----------------------------------------------------------------


@dataclass(frozen=True)
class ModelRef:
    """A model as an agent, a key or a job names it: a base model of the catalogue, or a
    fine-tuned model by the platform's id for it. Exactly one of the two."""

    base: BaseModel | None = None
    fine_tuned_id: str = ""

    def __post_init__(self) -> None:
        if (self.base is None) == (not self.fine_tuned_id):
            raise ValueError("A model reference names a base model or a fine-tuned one.")

    @classmethod
    def of(cls, base: BaseModel) -> ModelRef:
        return cls(base=base)

    @classmethod
    def fine_tuned(cls, fine_tuned_id: str) -> ModelRef:
        return cls(fine_tuned_id=fine_tuned_id)

    @property
    def public_id(self) -> str:
        """The id the platform's API takes for the model."""
        return self.base.model_id if self.base is not None else self.fine_tuned_id

    def __str__(self) -> str:
        return self.public_id


ONE_MODEL = (models.Q(base_model__isnull=False) & models.Q(fine_tuned_id="")) | (
    models.Q(base_model__isnull=True) & ~models.Q(fine_tuned_id="")
)
ONE_MODEL_NEEDED = "Choose a base model or a fine-tuned model."
NOT_BOTH = "Choose a base model or a fine-tuned model, not both."


class ModelReference(models.Model):
    """The fields of a row that names one model (an agent, a key's model, a job). A
    concrete subclass adds ``one_model(name=...)`` to its ``Meta.constraints``; a system
    check (``catalogue.checks``) fails when it does not.

    The base model is a foreign key (protected: a model in use is retired, never deleted).
    The fine-tuned model is the platform's public id for it, not a foreign key: fine-tuned
    models belong to ``finetuning``, which sits above ``billing`` (where keys live) and
    beside ``agents``, so neither could hold a key into its tables; that app will answer
    for the id, workspace included."""

    base_model = models.ForeignKey(
        BaseModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fine_tuned_id = models.CharField(
        "fine-tuned model", max_length=128, blank=True, validators=[fine_tuned_id_validator]
    )
    # The stubs give an abstract model's foreign key no column attribute.
    base_model_id: int | None

    class Meta:
        abstract = True

    @property
    def model_ref(self) -> ModelRef:
        return ModelRef(base=self.base_model, fine_tuned_id=self.fine_tuned_id)

    @model_ref.setter
    def model_ref(self, ref: ModelRef) -> None:
        self.base_model = ref.base
        self.fine_tuned_id = ref.fine_tuned_id

    def clean(self) -> None:
        super().clean()
        if self.base_model_id is not None and self.fine_tuned_id:
            raise ValidationError({"fine_tuned_id": NOT_BOTH})
        if self.base_model_id is None and not self.fine_tuned_id:
            raise ValidationError({"base_model": ONE_MODEL_NEEDED})


def one_model(*, name: str) -> models.CheckConstraint:
    """A ``ModelReference`` row names exactly one model: a base one or a fine-tuned one."""
    return models.CheckConstraint(
        condition=ONE_MODEL, name=name, violation_error_message=ONE_MODEL_NEEDED
    )
