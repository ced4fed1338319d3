"""In-process micro-benchmarks: the cost of a call next to a no-op measured in the same run.

`measure(fn)` times `fn` and a reference (by default a no-op function) in
alternating rounds with the same loop count, and reports the median time per
call of each and their ratio. Alternating rounds make both figures see the
same machine state (frequency, noise), which is what makes the ratio stable
where the absolute nanoseconds are not. Time is this thread's CPU time by
default, so that other processes taking the CPU away do not count; pass
`clock="wall"` for code that waits.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Clock = Literal["cpu", "wall"]
_CLOCKS = {"cpu": time.thread_time_ns, "wall": time.perf_counter_ns}


def noop() -> None:
    return None


@dataclass(frozen=True)
class Micro:
    ns: float  # median ns per call of fn
    reference_ns: float  # median ns per call of the reference
    loops: int  # calls per round
    rounds: int
    clock: Clock = "cpu"

    @property
    def ratio(self) -> float:
        """fn's cost as a multiple of the reference's."""
        return self.ns / self.reference_ns if self.reference_ns else float("inf")

    @property
    def net_ns(self) -> float:
        """fn's cost beyond the reference's (the call overhead taken away)."""
        return self.ns - self.reference_ns


def _time_loop(fn: Callable[[], object], loops: int, clock: Callable[[], int]) -> float:
    """Nanoseconds per call over `loops` calls."""
    started = clock()
    for _ in range(loops):
        fn()
    return (clock() - started) / loops


def _calibrate(fn: Callable[[], object], round_s: float, clock: Callable[[], int]) -> int:
    loops = 1
    while True:
        per_call = _time_loop(fn, loops, clock)
        if per_call * loops >= round_s * 1e9 or loops >= 1 << 24:
            return loops
        # Aim straight for the round length, at most 10x per step.
        wanted = int(round_s * 1e9 / max(per_call, 1.0)) + 1
        loops = min(max(loops * 2, wanted), loops * 10)


def measure(
    fn: Callable[[], object],
    reference: Callable[[], object] = noop,
    *,
    rounds: int = 9,
    round_s: float = 0.02,
    clock: Clock = "cpu",
) -> Micro:
    """Median ns per call of `fn` and of `reference`, timed in alternating rounds.

    Both are plain synchronous callables taking no arguments; wrap anything else
    in a lambda (and give the reference the same lambda shape for a fair ratio).
    The garbage collector is paused while timing, as `timeit` does.
    """
    now = _CLOCKS[clock]
    fn()
    reference()
    loops = _calibrate(fn, round_s, now)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        own: list[float] = []
        ref: list[float] = []
        for _ in range(rounds):
            ref.append(_time_loop(reference, loops, now))
            own.append(_time_loop(fn, loops, now))
    finally:
        if gc_was_enabled:
            gc.enable()
    return Micro(
        ns=statistics.median(own),
        reference_ns=statistics.median(ref),
        loops=loops,
        rounds=rounds,
        clock=clock,
    )
