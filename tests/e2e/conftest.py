"""The stack as a user starts it: a temporary clone, `make up`, then `make down`."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.network import free_port

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "e2e-portal-secret"
SLACK_SIGNING_SECRET = "e2e-slack-signing-secret"


@dataclass(frozen=True)
class RunningStack:
    clone: Path
    env: dict[str, str]
    api_url: str
    ui_url: str
    gateway_url: str
    token: str
    up_output: str

    def make(self, target: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", target],
            cwd=self.clone,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.clone / ".venv/bin/serviceops"), *args],
            cwd=self.clone,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def copy_work_tree(destination: Path) -> None:
    """What git would clone, plus uncommitted edits: tracked and untracked-not-ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    clone = tmp_path_factory.mktemp("clone")
    copy_work_tree(clone)
    prefect_port, gateway_port = free_port(), free_port()
    catalogue = clone / "cmdb.toml"  # the default catalogue checks the stack on its ports
    catalogue.write_text(
        catalogue.read_text()
        .replace("127.0.0.1:8080", f"127.0.0.1:{gateway_port}")
        .replace("127.0.0.1:4200", f"127.0.0.1:{prefect_port}")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SERVICEOPS_"))}
    env |= {
        "SERVICEOPS_PREFECT_PORT": str(prefect_port),
        "SERVICEOPS_GATEWAY_PORT": str(gateway_port),
        "SERVICEOPS_WEBHOOK_SECRETS": f"portal={WEBHOOK_SECRET}",
        "SERVICEOPS_SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
    }
    running = RunningStack(
        clone=clone,
        env=env,
        api_url=f"http://127.0.0.1:{prefect_port}/api",
        ui_url=f"http://127.0.0.1:{prefect_port}",
        gateway_url=f"http://127.0.0.1:{gateway_port}",
        token="",
        up_output="",
    )
    up = running.make("up", timeout=600)
    try:
        assert up.returncode == 0, f"make up failed:\n{up.stdout}\n{up.stderr}"
        token = (clone / ".serviceops/api-token").read_text().strip()
        yield RunningStack(**{**running.__dict__, "token": token, "up_output": up.stdout})
    finally:
        running.make("down", timeout=300)
