"""Every registry entry names an implementation that imports, and the checker's names match."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import ccaic.registry as registry_pkg
from ccaic.registry import Entry, Registry, UnknownEntry


def _registries() -> list[Registry[object]]:
    found = []
    for info in pkgutil.iter_modules(registry_pkg.__path__):
        module = importlib.import_module(f"ccaic.registry.{info.name}")
        found += [v for v in vars(module).values() if isinstance(v, Registry)]
    return found


def test_a_registry_keeps_order_refuses_twins_and_names_what_it_knows() -> None:
    entries = [Entry("b", "json:dumps", "second"), Entry("a", "json:loads", "first")]
    reg: Registry[object] = Registry("thing", entries)
    assert reg.names() == ("b", "a")
    assert reg.load("a") is importlib.import_module("json").loads
    with pytest.raises(UnknownEntry, match="known: b, a"):
        reg.entry("c")
    with pytest.raises(ValueError, match="registered twice"):
        Registry("thing", [*entries, Entry("a", "json:dumps", "again")])


@pytest.mark.parametrize("reg", _registries(), ids=lambda r: r.kind)
def test_every_entry_loads(reg: Registry[object]) -> None:
    for entry in reg:
        assert reg.load(entry.name) is not None, entry.target
