"""A Prefect server of a test's own, for what the session's test harness cannot do: die and
come back on the same port with the same database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.network import free_port


class PrefectServer:
    """`prefect server start` on a SQLite database in `home` (the embedded default)."""

    def __init__(self, home: Path) -> None:
        self.home, self.port = home, free_port()
        self.log = home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout: float = 120) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= {"PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        argv = [sys.executable, "-m", "prefect", "server", "start",
                "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while not self._healthy():
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"no Prefect server after {timeout} s"
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL to the server and whatever it started: no chance to tidy up."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
