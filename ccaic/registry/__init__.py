"""Registries: how a new source, score, grouping, training step or evaluation plugs in.

Each registry is a module of this package holding a tuple of `Entry`s. An entry is pure data:
the name the language uses, a docstring, the attributes its block takes (`Attr`, with their
defaults), and `target`, the "module:attribute" of its implementation, imported on first use.
That split is what lets `ccaic check` validate every plug-in's options while knowing nothing of
assembly, train or torch (the import contracts in .importlinter), the way Python entry points
and inspect_ai's registries resolve implementations by name.

A new implementation is its module plus one `Entry` line in the registry file (plus docs).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ccaic.registry.attrs import Attr, BlockSpec

__all__ = ["Attr", "BlockSpec", "Entry", "Registry", "UnknownEntry", "load_target"]

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    name: str  # the language name: `consensus <name>`, `source <name>`, ...
    target: str  # "package.module:attribute", imported by `Registry.load`
    doc: str
    attrs: Mapping[str, Attr] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)  # registry-specific facts (pure data)

    def defaults(self) -> dict[str, object]:
        """Every attribute's default, from the one place it is declared."""
        return {name: attr.default for name, attr in self.attrs.items()}


def load_target(target: str) -> Any:
    """The object a "package.module:attribute" string names (entry targets, and the targets
    entries keep in their meta, such as a source's `sync`), imported on first use."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


class UnknownEntry(KeyError):
    """A name no entry of the registry has (the checker reports it before any stage runs)."""


class Registry(Generic[T]):
    """An ordered, immutable name -> Entry map whose implementations load lazily."""

    def __init__(self, kind: str, entries: Iterable[Entry]) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        for entry in entries:
            if entry.name in self._entries:
                raise ValueError(f"{kind} registry: {entry.name!r} registered twice")
            self._entries[entry.name] = entry
        self._loaded: dict[str, T] = {}

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownEntry(f"no {self.kind} named {name!r}; known: "
                               f"{', '.join(self._entries)}") from None

    def load(self, name: str) -> T:
        """The implementation behind `name`, imported once."""
        if name not in self._loaded:
            self._loaded[name] = load_target(self.entry(name).target)
        return self._loaded[name]

    def block_attrs(self) -> dict[str, Attr]:
        """The attributes a block labelled with any entry's name takes: every entry's, first
        declaration first (the checker validates the union; each entry reads its own)."""
        merged: dict[str, Attr] = {}
        for entry in self._entries.values():
            for name, attr in entry.attrs.items():
                merged.setdefault(name, attr)
        return merged

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
