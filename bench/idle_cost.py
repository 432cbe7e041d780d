"""What the stack costs at rest: `make up`'s processes (bench/stack_run.py) with the default
catalogue, left alone. After a minute to settle, the CPU time of each process tree (flow-run
processes and their exited children included) over 2 minutes, as a share of one core (goal
under 10 %), the peak of flow-run processes, and the flow runs the schedules have created for
the hour after the window (the checks run every few minutes, so two minutes show only some)."""

import time
from datetime import UTC, datetime, timedelta

from bench.process_cpu import cpu_seconds, descendants
from bench.stack_run import COMPONENTS, format_counts, running_stack, runs_created

SETTLE_S, WINDOW_S = 60, 120
GOAL = 0.10


def main() -> None:
    print(f"idle stack: default catalogue, {WINDOW_S} s at rest after {SETTLE_S} s")
    with running_stack() as stack:
        time.sleep(SETTLE_S)
        pids = stack.pids()
        parents = [pids["serve"], pids["routine"]]
        before = {name: cpu_seconds([pid]) for name, pid in pids.items()}
        since, started, peak = datetime.now(UTC), time.monotonic(), 0
        while time.monotonic() - started < WINDOW_S:
            peak = max(peak, len(descendants(parents)) - len(parents))
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        shares = {name: (cpu_seconds([pid]) - before[name]) / elapsed for name, pid in pids.items()}
        runs = runs_created(stack.api_url, since, since + timedelta(seconds=WINDOW_S))
        ahead = datetime.now(UTC)
        hour = runs_created(stack.api_url, ahead, ahead + timedelta(hours=1))
    for name in COMPONENTS:
        print(f"  {name:<15} {100 * shares[name]:5.1f} % of a core")
    total = sum(shares.values())
    print(
        f"  whole stack     {100 * total:5.1f} % of a core (goal < {100 * GOAL:.0f} %: "
        f"{'ok' if total < GOAL else 'no'}); peak flow-run processes {peak}"
    )
    print(f"  flow runs in the {WINDOW_S} s: {format_counts(runs)}")
    print(f"  flow runs scheduled for the next hour: {sum(hour.values())} ({format_counts(hour)})")


if __name__ == "__main__":
    main()
