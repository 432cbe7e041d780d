"""The children the webhook benchmark runs (the Prefect server, serve, the gateway): each in its
own process group, stopped however the benchmark ends; the gateway child announces its port.

`python -m bench.child_processes gateway` is that child."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from serviceops.prefect_rest import call

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def child_process(argv: list[str], env: dict[str, str], log: Path, **popen: Any) -> Iterator[Any]:
    """A child in its own process group, stopped (SIGTERM, then SIGKILL) however we leave."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=popen.pop("stdout", out),
            stderr=out,
            start_new_session=True,
            **popen,
        )
        try:
            yield process
        finally:
            stop(process)
            if process.stdout is not None:
                process.stdout.close()


def stop(process: subprocess.Popen[Any], grace_s: float = 20) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def wait_for(what: str, ready: Any, process: subprocess.Popen[Any], log: Path, t: float) -> None:
    deadline = time.monotonic() + t
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} did not come up; {log}:\n{tail}")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def serve_gateway() -> None:
    """The child: the gateway on a port the OS picks, announced on stdout once it listens,
    served until SIGTERM. Settings come from the environment the parent builds.

    uvicorn binds the socket itself: handed a pre-bound socket instead, it was seen to leave
    Nagle on for the connections, and every answer then waited 40 ms for a delayed ACK.
    """
    import uvicorn

    from serviceops.gateway.app import create_app

    app = create_app()  # as `serviceops gateway` builds it: Prefect from PREFECT_API_URL
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.01)
        print(server.servers[0].sockets[0].getsockname()[1], flush=True)

    async def run() -> None:
        announcing = asyncio.create_task(announce())
        await server.serve()
        announcing.cancel()

    asyncio.run(run())


def gateway_port(stdout: IO[bytes]) -> int:
    line = stdout.readline()
    if not line.strip():
        raise RuntimeError("the gateway exited before announcing its port")
    return int(line)


@contextmanager
def gateway_child(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[Any]]]:
    argv = [sys.executable, "-m", "bench.child_processes", "gateway"]
    with child_process(argv, env, log, stdout=subprocess.PIPE) as gateway:
        yield f"http://127.0.0.1:{gateway_port(gateway.stdout)}", gateway


def fulfil_request_id(api_url: str) -> str | None:
    try:
        with httpx.Client(base_url=api_url, timeout=5) as api:
            found = api.get("/deployments/name/fulfil-request/fulfil-request")
    except httpx.HTTPError:
        return None
    return str(found.json()["id"]) if found.status_code == 200 else None


def runs_in_flight(api_url: str) -> int:
    query = {"flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING", "CANCELLING"]}}}}
    with httpx.Client(base_url=api_url, timeout=10) as api:
        return int(call(api, "POST", "/flow_runs/count", json=query).json())


if __name__ == "__main__" and sys.argv[1:] == ["gateway"]:
    serve_gateway()
