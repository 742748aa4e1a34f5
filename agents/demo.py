"""The demo's agents (``make run``): in Acme Research, one restricted to the Research group
and one that searches a library; in Daily Ledger, a Media Customer, one whose verified
news tool the console refuses. Made through the services, once."""

from __future__ import annotations

import logging

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actor import Actor
from accounts.models import Group, Membership
from catalogue.models import BaseModel, ModelRef
from connectors import libraries
from connectors.models import Library, LibraryRole
from core.errors import DomainError

from . import services, tools
from .models import Agent, Visibility

log = logging.getLogger(__name__)

MODEL = "mistral-medium-2505"


def _model() -> ModelRef:
    return ModelRef.of(BaseModel.objects.get(model_id=MODEL))


def _handbooks(owner: Membership, group: Group) -> Library:
    library = Library.objects.filter(workspace=owner.workspace, name="Handbooks").first()
    if library is not None:
        return library
    actor = Actor.member(owner)
    library = libraries.library_create(
        actor=actor,
        workspace=owner.workspace,
        name="Handbooks",
        description="How the team works: onboarding, on-call, expenses.",
    )
    libraries.library_share(
        actor=actor,
        library_id=library.pk,
        target=libraries.ShareTarget(libraries.TargetKind.GROUP, group.pk),
        role=LibraryRole.VIEWER,
    )
    libraries.library_document_add(
        actor=actor,
        library_id=library.pk,
        uploaded_file=SimpleUploadedFile(
            "onboarding.md", b"# Onboarding\n\nWelcome to Acme Research.\n", "text/markdown"
        ),
    )
    return library


def seed_acme(owner: Membership) -> None:
    if Agent.objects.filter(workspace=owner.workspace).exists():
        return
    actor = Actor.member(owner)
    research = Group.objects.get(workspace=owner.workspace, name="Research")
    library = _handbooks(owner, research)
    restricted = services.agent_create(
        actor=actor,
        workspace=owner.workspace,
        name="Literature reviewer",
        description="Finds and summarizes papers for the Research group.",
        visibility=Visibility.RESTRICTED,
        config=services.Config(
            model=_model(),
            instructions="Find recent papers on the question and summarize each in three lines.",
            tools=(tools.WEB_SEARCH,),
        ),
    )
    services.agent_share_grant(
        actor=actor,
        agent_id=restricted.pk,
        target=services.ShareTarget(services.TargetKind.GROUP, research.pk),
        role="viewer",
    )
    services.agent_create(
        actor=actor,
        workspace=owner.workspace,
        name="Handbook helper",
        description="Answers questions from the team's handbooks.",
        visibility=Visibility.WORKSPACE,
        config=services.Config(
            model=_model(),
            instructions="Answer from the handbooks only, and cite the document.",
            tools=(tools.DOCUMENT_SEARCH,),
            library_ids=(library.pk,),
        ),
    )


def seed_ledger(owner: Membership) -> None:
    if Agent.objects.filter(workspace=owner.workspace).exists():
        return
    actor = Actor.member(owner)
    config = services.Config(
        model=_model(),
        instructions="Draft a morning briefing from today's verified news.",
        tools=(tools.NEWS, tools.WEB_SEARCH),
    )
    try:
        services.agent_create(
            actor=actor, workspace=owner.workspace, name="Morning briefing", config=config
        )
    except DomainError as refused:
        # A Media Customer's agents cannot carry verified news: the demo keeps the agent
        # without it, and its builder shows why.
        log.info("Daily Ledger's agent without verified news: %s", refused.message)
        services.agent_create(
            actor=actor,
            workspace=owner.workspace,
            name="Morning briefing",
            description="Verified news is refused here: Daily Ledger is a Media Customer.",
            config=services.Config(
                model=config.model, instructions=config.instructions, tools=(tools.WEB_SEARCH,)
            ),
        )
