"""The audit actions of feature rules and switches."""

from __future__ import annotations

from core.audit import Actions


class Action(Actions):
    FEATURE_RULE_CHANGED = "feature.rule_changed"
    FEATURE_SWITCHED = "feature.switched"
