"""Registers the path converters of ``core.parsing`` with Django's URL resolver. URL modules
that use ``<id:...>`` import this module first (registration happens once, on import)."""

from __future__ import annotations

from django.urls import register_converter

from .parsing import IdConverter

register_converter(IdConverter, "id")
