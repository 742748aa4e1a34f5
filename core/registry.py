"""The features of the platform (R-FEAT-1), as code: one place that names them.

This module imports nothing of the console, so any app may read it (a plan's admin form
lists the features from here); the decision about a member lives in
``features.decisions``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    key: str
    label: str
    description: str
    # Whether a user may switch the feature off for themselves (R-FEAT-2).
    user_switchable: bool
    # Whether the feature is on when the plan includes it and no admin rule says otherwise.
    # A feature that is off by default needs an explicit "allow" at some level.
    default_on: bool = True


WEB_SEARCH = "web_search"
NEWS = "news"
IMAGE_GENERATION = "image_generation"
CODE_INTERPRETER = "code_interpreter"
CANVAS = "canvas"
MEMORY = "memory"
CONNECTORS = "connectors"
LIBRARIES = "libraries"
AGENTS = "agents"
AGENT_SHARING = "agent_sharing"
CONVERSATION_LINKS = "conversation_links"
FINE_TUNING = "fine_tuning"

FEATURES: tuple[Feature, ...] = (
    Feature(
        WEB_SEARCH, "Web search", "Answers grounded in results from the web, with sources.", True
    ),
    Feature(
        NEWS,
        "Verified news",
        "Answers drawn from the verified news feed of press agencies (such as AFP).",
        True,
    ),
    Feature(IMAGE_GENERATION, "Image generation", "Create images from a description.", True),
    Feature(
        CODE_INTERPRETER,
        "Code interpreter",
        "Run code in a sandbox to compute, analyse files and draw charts.",
        True,
    ),
    Feature(
        CANVAS, "Canvas", "Write and edit documents and code side by side with the assistant.", True
    ),
    Feature(
        MEMORY,
        "Memory",
        "The assistant remembers facts across conversations. Off unless an admin turns it on.",
        True,
        default_on=False,
    ),
    Feature(
        CONNECTORS,
        "Connectors",
        "Search the workspace's connected services (Google Drive, SharePoint, ...).",
        True,
    ),
    Feature(
        LIBRARIES, "Libraries", "Upload documents to libraries the assistant can search.", True
    ),
    Feature(
        AGENTS,
        "Agents",
        "Create and use agents: instructions, tools and knowledge packaged for a task.",
        False,
    ),
    Feature(
        AGENT_SHARING,
        "Agent sharing",
        "Share agents with the whole workspace or with chosen members.",
        False,
    ),
    Feature(
        CONVERSATION_LINKS, "Conversation links", "Share a read-only link to a conversation.", True
    ),
    Feature(FINE_TUNING, "Fine-tuning", "Train custom models on the workspace's own data.", False),
)

BY_KEY: dict[str, Feature] = {f.key: f for f in FEATURES}
KEYS: tuple[str, ...] = tuple(f.key for f in FEATURES)
CHOICES: list[tuple[str, str]] = [(f.key, f.label) for f in FEATURES]


def get(key: str) -> Feature:
    """The feature named ``key``; KeyError for an unknown one."""
    return BY_KEY[key]
