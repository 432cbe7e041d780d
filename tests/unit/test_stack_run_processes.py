"""`make down` waits for the processes of serve's runs, not for serve's fork server or
multiprocessing's resource tracker, which live as long as serve does."""

import subprocess
import sys
import time
from collections.abc import Callable

from serviceops.stack import _run_processes

# A stand-in for serve: a fork server (with its resource tracker) and, once told on stdin,
# one run forked from it that sleeps until told again.
SERVE = """
import multiprocessing, sys, time
def run(): time.sleep(600)
if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([])
    context.Process(target=time.sleep, args=(0,)).start()  # starts the fork server
    print("idle", flush=True)
    sys.stdin.readline()
    process = context.Process(target=run)
    process.start()
    print(process.pid, flush=True)
    sys.stdin.readline()
    process.kill()
    process.join()
    print("done", flush=True)
    sys.stdin.readline()
"""


def test_only_the_runs_forked_for_serve_count_as_in_flight() -> None:
    serve = subprocess.Popen(
        [sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert serve.stdin is not None and serve.stdout is not None
    try:
        assert serve.stdout.readline().strip() == "idle"
        _until(lambda: _run_processes(serve.pid) == [])
        serve.stdin.write("\n")
        serve.stdin.flush()
        run = int(serve.stdout.readline())
        assert _run_processes(serve.pid) == [run]
        serve.stdin.write("\n")
        serve.stdin.flush()
        assert serve.stdout.readline().strip() == "done"
        assert _run_processes(serve.pid) == []
    finally:
        serve.kill()
        serve.wait()


def _until(check: Callable[[], bool], timeout: float = 30) -> None:
    """The first start leaves a short-lived child of the fork server behind for a moment."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
