"""The fake Polis server replaying the shared conversation, as the watch tests poll it: no
retry back-off, and a fixed poll time (SOURCE_DATE_EPOCH) so histories compare byte for byte."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ccaic.assembly.sources.polis_api as polis_api
from tests.assembly.fake_polis import CSV_CONVERSATION, FakePolis, conversation, serving


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePolis]:
    monkeypatch.setattr(polis_api, "BACKOFF", 0.0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    with serving(FakePolis(conversation(CSV_CONVERSATION))) as fake:
        yield fake
