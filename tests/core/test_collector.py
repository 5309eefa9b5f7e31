"""The collector around start-up's loading: paused while it loads, what it loaded frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core import collector


@pytest.fixture(autouse=True)
def collector_as_found() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_paused_stops_collections_and_restores_the_collector_even_on_error() -> None:
    gc.enable()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner block leaves the collector to the outer one"
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("a failed load")
    assert gc.isenabled()
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled(), "paused by someone else, it stays paused"


def test_long_lived_moves_what_it_loaded_out_of_the_collectors_generations() -> None:
    gc.enable()
    gc.unfreeze()
    before = gc.get_freeze_count()
    with collector.long_lived():
        loaded = [[n] for n in range(1_000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(loaded), "the loaded lists are frozen"
    frozen = gc.get_freeze_count()
    with pytest.raises(RuntimeError), collector.long_lived():
        raise RuntimeError("a failed load")
    assert gc.get_freeze_count() == frozen, "nothing is frozen after a failure"
