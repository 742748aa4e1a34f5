"""Factories for tests: one place for every model's test data.

A row that belongs to a workspace through another row (a rule of a group, a switch of a
member) takes that row's workspace unless told otherwise. Audit events are written through
``accounts.audit.record``, as the services write them; plans are the catalogue's when a
factory is given the slug of one."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone

from accounts.audit import Action, record
from accounts.models import (
    AuditEvent,
    Domain,
    Group,
    Invitation,
    JoinRequest,
    Membership,
    TermsAcceptance,
    User,
    Workspace,
)
from accounts.roles import Role
from agents.models import (
    Agent,
    AgentGrant,
    AgentSettings,
    AgentVersion,
    BlockedTerm,
    GrantRole,
)
from api.models import SHOWN_CHARS, FeatureUseEvent, ServiceToken, hash_token, new_raw_token
from billing.models import Plan, PlanKind, PriceBasis, Subscription
from catalogue.models import BaseModel, Kind, Lifecycle, ModelOffer
from compliance.models import (
    Appeal,
    EditorialAuthorization,
    MediaSource,
    MediaStatusChange,
    NewsViolation,
)
from connectors.models import (
    Connection,
    Document,
    GroupMember,
    Library,
    LibraryGrant,
    Principal,
    SyncRun,
)
from features.models import FeatureOptOut, FeatureRule

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@acme.test")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Users have a verified primary email unless made with verified=False."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@acme.test")
    role = Role.MEMBER
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"corp{n}.test")


class TermsAcceptanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TermsAcceptance

    user = factory.SubFactory(UserFactory)
    version = factory.LazyFunction(lambda: str(settings.TERMS_VERSION))


class JoinRequestFactory(factory.django.DjangoModelFactory):
    """A pending request to join, made by a user of a domain the workspace has verified."""

    class Meta:
        model = JoinRequest

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    domain = factory.SubFactory(
        DomainFactory,
        workspace=factory.SelfAttribute("..workspace"),
        verified_at=factory.LazyFunction(timezone.now),
    )


class AuditEventFactory(factory.django.DjangoModelFactory):
    """An audit event written by ``record``, so it is the row a service would write."""

    class Meta:
        model = AuditEvent

    workspace = factory.SubFactory(WorkspaceFactory)
    actor = None
    action = Action.WORKSPACE_UPDATED
    target = None
    target_repr = ""
    before = None
    after = None

    @classmethod
    def _create(cls, model_class: type[AuditEvent], *args: Any, **kwargs: Any) -> AuditEvent:
        return record(**kwargs)


# --- catalogue ----------------------------------------------------------------------------


class BaseModelFactory(factory.django.DjangoModelFactory):
    """A new chat model, available and offered on no plan unless made with ``plans=[...]``
    (plan slugs); ``deprecated=True`` retires it in 90 days, ``retired=True`` retired it 30
    days ago. ``BaseModelFactory(model_id="mistral-large-2411")`` answers the catalogue's."""

    class Meta:
        model = BaseModel
        django_get_or_create = ("model_id",)
        skip_postgeneration_save = True

    model_id = factory.Sequence(lambda n: f"test-model-{n}")
    name = factory.Sequence(lambda n: f"Test model {n}")
    kind = Kind.CHAT
    context_window = 32_768
    supports_tools = True
    supports_json_mode = True
    sort_order = 1000

    class Params:
        deprecated = factory.Trait(
            lifecycle=Lifecycle.DEPRECATED,
            retirement_date=factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90)),
        )
        retired = factory.Trait(
            lifecycle=Lifecycle.RETIRED,
            retirement_date=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30)),
        )

    @factory.post_generation
    def plans(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create:
            for slug in extracted or []:
                ModelOffer.objects.get_or_create(model=self, plan_slug=slug)


class ModelOfferFactory(factory.django.DjangoModelFactory):
    """A new model offered on the team plan."""

    class Meta:
        model = ModelOffer

    model = factory.SubFactory(BaseModelFactory)
    plan_slug = "team"


# --- billing ------------------------------------------------------------------------------


class PlanFactory(factory.django.DjangoModelFactory):
    """A new plan; ``PlanFactory(slug="team")`` answers the catalogue's plan of that slug."""

    class Meta:
        model = Plan
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.Sequence(lambda n: f"Plan {n}")
    kind = PlanKind.CHAT_TEAM
    price_basis = PriceBasis.PER_SEAT
    monthly_price = Decimal("9.50")
    features = factory.LazyFunction(lambda: ["web_search"])
    sort_order = 100


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A current subscription, on the catalogue's free plan unless told otherwise. The
    console starts subscriptions with ``billing.services.subscription_start``; this row is
    for tests that need one without its audit event."""

    class Meta:
        model = Subscription

    workspace = factory.SubFactory(WorkspaceFactory)
    plan = factory.SubFactory(PlanFactory, slug="free")
    current_period_end = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


# --- compliance ---------------------------------------------------------------------------


class MediaStatusChangeFactory(factory.django.DjangoModelFactory):
    """The workspace declares itself a Media Customer (``is_media_customer=False`` clears it)."""

    class Meta:
        model = MediaStatusChange

    workspace = factory.SubFactory(WorkspaceFactory)
    is_media_customer = True
    source = MediaSource.SELF


class EditorialAuthorizationFactory(factory.django.DjangoModelFactory):
    """A pending request for editorial use; ``approved=True`` makes it an exception in force
    until ``ends_on`` (a month from now unless given), for ``scope_group`` or everyone."""

    class Meta:
        model = EditorialAuthorization

    class Params:
        approved = factory.Trait(
            status="approved",
            ends_on=factory.LazyFunction(lambda: timezone.now().date() + timedelta(days=30)),
            decided_at=factory.LazyFunction(timezone.now),
        )

    workspace = factory.SubFactory(WorkspaceFactory)
    reason = "Fact-checking of the news we publish"
    requested_scope = "The news desk"


class NewsViolationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NewsViolation

    workspace = factory.SubFactory(WorkspaceFactory)
    membership = None
    user_email = factory.Sequence(lambda n: f"reporter{n}@acme.test")
    event_id = factory.Sequence(lambda n: f"evt-news-{n}")
    occurred_at = factory.LazyFunction(timezone.now)


class AppealFactory(factory.django.DjangoModelFactory):
    """A pending appeal of the workspace's suspension."""

    class Meta:
        model = Appeal

    workspace = factory.SubFactory(WorkspaceFactory)
    suspension_reason = factory.LazyAttribute(lambda o: o.workspace.suspension_reason)
    statement = "We do not use verified news for editorial purposes."


# --- features -----------------------------------------------------------------------------


def _workspace_of_target(rule: Any) -> Workspace:
    """The workspace of the rule's group or member; a new workspace for a workspace rule."""
    if rule.group is not None:
        return rule.group.workspace
    if rule.membership is not None:
        return rule.membership.workspace
    return WorkspaceFactory()


class FeatureRuleFactory(factory.django.DjangoModelFactory):
    """An admin's rule: for the whole workspace, or for ``group`` or ``membership``."""

    class Meta:
        model = FeatureRule

    group = None
    membership = None
    workspace = factory.LazyAttribute(_workspace_of_target)
    feature = "web_search"
    effect = "deny"


class FeatureOptOutFactory(factory.django.DjangoModelFactory):
    """A member switched a feature off for themselves."""

    class Meta:
        model = FeatureOptOut

    membership = factory.SubFactory(MembershipFactory)
    workspace = factory.SelfAttribute("membership.workspace")
    feature = "web_search"


# --- api ----------------------------------------------------------------------------------


class ServiceTokenFactory(factory.django.DjangoModelFactory):
    """A service token stored as the admin stores it: prefix and hash of ``raw``. Pass
    ``raw=new_raw_token()`` to keep the secret a test sends."""

    class Meta:
        model = ServiceToken

    class Params:
        raw = factory.LazyFunction(new_raw_token)

    name = factory.Sequence(lambda n: f"Gateway {n}")
    prefix = factory.LazyAttribute(lambda o: o.raw[:SHOWN_CHARS])
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.raw))


class FeatureUseEventFactory(factory.django.DjangoModelFactory):
    """The gateway's report of a feature used by ``membership``, allowed at the time."""

    class Meta:
        model = FeatureUseEvent

    membership = factory.SubFactory(MembershipFactory)
    workspace = factory.SelfAttribute("membership.workspace")
    user_email = factory.SelfAttribute("membership.user.email")
    feature = "web_search"
    outcome = "used"
    event_id = factory.Sequence(lambda n: f"evt-use-{n}")
    occurred_at = factory.LazyFunction(timezone.now)
    allowed = True
    code = "allowed"


# --- connectors ---------------------------------------------------------------------------


class ConnectionFactory(factory.django.DjangoModelFactory):
    """A connection that synced just now (fresh), without credentials."""

    class Meta:
        model = Connection

    workspace = factory.SubFactory(WorkspaceFactory)
    provider = "google_drive"
    account = factory.Sequence(lambda n: f"drive{n}@acme.test")
    display_name = factory.Sequence(lambda n: f"Drive {n}")
    last_success_at = factory.LazyFunction(timezone.now)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    connection = factory.SubFactory(ConnectionFactory)
    kind = "full"
    status = "succeeded"
    phase = "done"


class PrincipalFactory(factory.django.DjangoModelFactory):
    """A source identity (a person's email) of a connection."""

    class Meta:
        model = Principal

    connection = factory.SubFactory(ConnectionFactory)
    workspace = factory.SelfAttribute("connection.workspace")
    kind = "email"
    key = factory.Sequence(lambda n: f"person{n}@acme.test")


class GroupMemberFactory(factory.django.DjangoModelFactory):
    """A person of a source group, both principals of one connection."""

    class Meta:
        model = GroupMember

    connection = factory.SubFactory(ConnectionFactory)
    group = factory.SubFactory(
        PrincipalFactory,
        connection=factory.SelfAttribute("..connection"),
        kind="source_group",
    )
    member = factory.SubFactory(PrincipalFactory, connection=factory.SelfAttribute("..connection"))


class LibraryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Library

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Library {n}")


class LibraryGrantFactory(factory.django.DjangoModelFactory):
    """The library shared with its whole workspace, as Viewer."""

    class Meta:
        model = LibraryGrant

    library = factory.SubFactory(LibraryFactory)
    principal = factory.SubFactory(
        PrincipalFactory,
        connection=None,
        workspace=factory.SelfAttribute("..library.workspace"),
        kind="everyone",
        key=factory.Sequence(lambda n: f"{n}"),
    )


class DocumentFactory(factory.django.DjangoModelFactory):
    """A synced document of a connection, shared with nobody unless ``principals`` says."""

    class Meta:
        model = Document

    connection = factory.SubFactory(ConnectionFactory)
    workspace = factory.SelfAttribute("connection.workspace")
    source_id = factory.Sequence(lambda n: f"file-{n}")
    title = factory.Sequence(lambda n: f"Document {n}")
    modified_at = factory.LazyFunction(timezone.now)
    acl = factory.LazyFunction(list)


# --- agents ---------------------------------------------------------------------------------


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent shared with its whole workspace, created by a member of it, with a first
    version on a new base model (``current``). The services make agents; this row is for
    tests that need one without its audit event."""

    class Meta:
        model = Agent
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    created_by = factory.SubFactory(
        MembershipFactory, workspace=factory.SelfAttribute("..workspace")
    )
    name = factory.Sequence(lambda n: f"Agent {n}")
    description = "Answers questions."

    @factory.post_generation
    def version(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False:
            kwargs.setdefault("author", self.created_by.user if self.created_by else None)
            self.current = AgentVersionFactory(agent=self, number=1, **kwargs)
            self.save(update_fields=["current"])


class AgentVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentVersion

    agent = factory.SubFactory(AgentFactory, version=False)
    number = factory.Sequence(lambda n: n + 1)
    base_model = factory.SubFactory(BaseModelFactory)
    instructions = "Answer briefly."


class AgentGrantFactory(factory.django.DjangoModelFactory):
    """A Viewer grant to a member of the agent's workspace."""

    class Meta:
        model = AgentGrant

    agent = factory.SubFactory(AgentFactory)
    membership = factory.SubFactory(
        MembershipFactory, workspace=factory.SelfAttribute("..agent.workspace")
    )
    role = GrantRole.VIEWER


class AgentSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentSettings

    workspace = factory.SubFactory(WorkspaceFactory)


class BlockedTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BlockedTerm

    term = factory.Sequence(lambda n: f"blockedword{n}")
