"""Each run serve starts forks from a process that has already imported Prefect and the flows.

Prefect's serve starts every flow run in a process of its own with multiprocessing's "spawn":
a new interpreter that imports Prefect and serviceops before the run does anything, about
5 CPU seconds on a two-core machine, which was most of the time from an incident logged to
its first page. Multiprocessing's "forkserver" keeps one single-threaded process that has made
those imports and forks it for each run: the run still has a process of its own (a crash, a
kill or a leak stays in it, and serve cancels it as before), and starts with its imports done.

Prefect names the place to change how a run's process starts
(prefect.runner._starter_direct: "patch the module to override"); what changes here is only
the start method that prefect.flow_engine.run_flow_in_subprocess asks multiprocessing for.
"""

import multiprocessing
import multiprocessing.context
from types import ModuleType
from typing import Any

import prefect.flow_engine

# Imported once in the fork server, so that every run forked from it starts with them.
PRELOAD = ["prefect.flow_engine", "deployments.definitions"]


class _ForkServerMultiprocessing(ModuleType):
    """multiprocessing as prefect.flow_engine sees it, with "forkserver" for any start method."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        super().__init__("multiprocessing")
        self._context = context

    def get_context(self, method: str | None = None) -> multiprocessing.context.BaseContext:
        return self._context

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


def fork_runs_from_a_warm_process() -> None:
    """From now on, runs this process starts fork from a fork server with PRELOAD imported."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    prefect.flow_engine.multiprocessing = _ForkServerMultiprocessing(context)  # type: ignore[attr-defined]
