"""What the stack costs at rest: `make up`'s processes (bench/stack_run.py) with the default
catalogue, left alone. After a minute to settle, the CPU time of each process tree (flow-run
processes and their exited children included) over 2 minutes, as a share of one core (goal
under 10 %), the peak of flow-run processes, and the flow runs the window's schedules
created, per hour."""

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
    for name in COMPONENTS:
        print(f"  {name:<15} {100 * shares[name]:5.1f} % of a core")
    total = sum(shares.values())
    print(
        f"  whole stack     {100 * total:5.1f} % of a core (goal < {100 * GOAL:.0f} %: "
        f"{'ok' if total < GOAL else 'no'}); peak flow-run processes {peak}"
    )
    per_hour = sum(runs.values()) * 3600 / WINDOW_S
    print(f"  flow runs at rest: {per_hour:.0f} an hour ({format_counts(runs)} in {WINDOW_S} s)")


if __name__ == "__main__":
    main()
