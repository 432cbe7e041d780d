"""`python -m deployments.serve`: one process serves the procedures people start (the
embedded default); each of their runs gets a process of its own. The scheduled routine runs
in deployments.routine instead.

The flows are handed to Prefect's Runner as flows (`add_flow`), not as deployments to load
from their files: the runner then starts a run from the flow it holds, in a process forked
from a fork server that has imported them (deployments.forkserver), instead of a new
interpreter that imports Prefect and serviceops again for every run. The deployments it
registers are the same (name, parameters, tags, entrypoint). When it stops it pauses its
deployments, as `prefect.serve` and the routine runner do.
"""

import asyncio

from prefect.exceptions import TerminationSignal
from prefect.runner import Runner

from deployments.definitions import definitions
from deployments.forkserver import fork_runs_from_a_warm_process


def main() -> None:
    fork_runs_from_a_warm_process()
    runner = Runner(pause_on_shutdown=True)
    served = [d for d in definitions() if not d.scheduled]
    for definition in served:
        runner.add_flow(
            definition.flow,
            name=definition.name,
            parameters=definition.parameters,
            tags=definition.tags,
        )
    print(f"serve: polling for the runs of {', '.join(d.name for d in served)}", flush=True)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        print("serve: stopped", flush=True)


if __name__ == "__main__":
    main()
