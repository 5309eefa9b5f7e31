"""The garbage collector around loading what lives as long as the process.

Start-up loads thousands of live sessions whose objects all stay alive. Every collection
that runs while they pile up traces the pile again, and once loaded they would be traced by
every full collection after: at 5,000 sessions, a third of the start-up's time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No collection while the block runs; whatever garbage it leaves is found by the next
    collection after it. A block inside another leaves the collector to the outer one."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def long_lived() -> Iterator[None]:
    """Load what will live as long as the process: no collection meanwhile, and once the
    block has finished, everything alive is moved out of the collector's generations
    (`gc.freeze()`), so no later collection traces it again. Garbage in reference cycles
    made inside is then never collected: keep the block to loading."""
    with paused():
        yield
        gc.freeze()
