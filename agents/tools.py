"""The tools an agent may carry, and the feature each needs at use time.

Document search is the one tool with sources: libraries (gated by the ``libraries``
feature) and connections (gated by ``connectors``). Which documents of those sources a
member then sees is ``connectors.access``'s decision, at retrieval time.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import registry

WEB_SEARCH = "web_search"
NEWS = "news"
CODE_INTERPRETER = "code_interpreter"
IMAGE_GENERATION = "image_generation"
DOCUMENT_SEARCH = "document_search"


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    # The feature a member needs to use it (document search: per source, see above).
    feature: str | None


TOOLS: tuple[Tool, ...] = (
    Tool(WEB_SEARCH, "Web search", registry.WEB_SEARCH),
    Tool(NEWS, "Verified news", registry.NEWS),
    Tool(CODE_INTERPRETER, "Code interpreter", registry.CODE_INTERPRETER),
    Tool(IMAGE_GENERATION, "Image generation", registry.IMAGE_GENERATION),
    Tool(DOCUMENT_SEARCH, "Document search", None),
)
BY_KEY: dict[str, Tool] = {t.key: t for t in TOOLS}
KEYS: tuple[str, ...] = tuple(t.key for t in TOOLS)
CHOICES: list[tuple[str, str]] = [(t.key, t.label) for t in TOOLS]
# Every feature the served configuration asks ``features.decisions`` about.
FEATURES: tuple[str, ...] = (
    registry.AGENTS,
    registry.WEB_SEARCH,
    registry.NEWS,
    registry.CODE_INTERPRETER,
    registry.IMAGE_GENERATION,
    registry.LIBRARIES,
    registry.CONNECTORS,
)


def ordered(keys: set[str] | list[str]) -> list[str]:
    """Tool keys in the catalogue's order, unknown ones left out."""
    chosen = set(keys)
    return [k for k in KEYS if k in chosen]
