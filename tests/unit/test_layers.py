"""The layers hold: read from every module's imports (function-level ones too), so a shortcut
across them fails here rather than in a review. docs/architecture.md draws the same layers."""

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("serviceops", "blocks", "tasks", "flows", "deployments")
PREFECT_LAYER = ("blocks", "tasks", "flows", "deployments")
ON_TOP = ("serviceops.application", "serviceops.gateway", "serviceops.cli")
# The one way the CLI reaches the gateway: `serviceops gateway` serves it.
SERVES_THE_GATEWAY = ("serviceops/cli/main.py", "serviceops.gateway.app")


def module_files(*packages: str) -> list[Path]:
    """The modules of `packages`; a package with none is a wrong path, and would make the
    rule that reads it pass on nothing."""
    for package in packages:
        assert any((ROOT / package).rglob("*.py")), f"no modules under {package}"
    files = [path for package in packages for path in (ROOT / package).rglob("*.py")]
    return sorted(path for path in files if "migrations" not in path.parts)


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, wherever the import statement is."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def offending(paths: list[Path], allowed: Callable[[Path, str], bool]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in paths
        for module in imports(path)
        if not allowed(path, module)
    ]


def test_the_domain_imports_pydantic_and_the_standard_library_only() -> None:
    def allowed(_path: Path, module: str) -> bool:
        top = module.partition(".")[0]
        return (
            top in sys.stdlib_module_names
            or top == "pydantic"
            or within(module, "serviceops.domain")
        )

    assert offending(module_files("serviceops/domain"), allowed) == []


def test_the_store_knows_the_domain_and_sqlalchemy_not_prefect_slack_or_http() -> None:
    banned = ("prefect", "slack_sdk", "fastapi", "typer", "httpx", "jinja2")

    def allowed(_path: Path, module: str) -> bool:
        if within(module, *banned):
            return False
        if within(module, *PROJECT):
            return within(module, "serviceops.domain", "serviceops.store")
        return True

    assert offending(module_files("serviceops/store"), allowed) == []


def test_serviceops_never_imports_the_prefect_layer_but_the_application_its_blocks() -> None:
    """tasks, flows and deployments use serviceops, never the other way: the stack lists the
    deployments through `python -m deployments.definitions`. The application layer reads the
    operator's policies from their blocks, as the flows do."""

    def allowed(path: Path, module: str) -> bool:
        if not within(module, *PREFECT_LAYER):
            return True
        return within(module, "blocks") and path.is_relative_to(ROOT / "serviceops/application")

    assert offending(module_files("serviceops"), allowed) == []


def test_nothing_below_the_gateway_and_the_cli_imports_them() -> None:
    below = [
        path
        for path in module_files("serviceops", *PREFECT_LAYER)
        if not any(path.is_relative_to(ROOT / package.replace(".", "/")) for package in ON_TOP)
    ]
    assert offending(below, lambda _path, module: not within(module, *ON_TOP)) == []


@pytest.mark.parametrize(
    ("package", "other"),
    [
        ("serviceops/application", ("serviceops.gateway", "serviceops.cli", "fastapi", "typer")),
        ("serviceops/gateway", ("serviceops.cli", "typer")),
        ("serviceops/cli", ("serviceops.gateway", "fastapi")),
    ],
)
def test_the_gateway_and_the_cli_share_the_application_layer_not_each_other(
    package: str, other: tuple[str, ...]
) -> None:
    def allowed(path: Path, module: str) -> bool:
        where, served = SERVES_THE_GATEWAY
        if str(path.relative_to(ROOT)) == where and within(module, served):
            return True
        return not within(module, *other)

    assert offending(module_files(package), allowed) == []


def test_the_check_would_see_a_function_level_import(tmp_path: Path) -> None:
    """Guards the tests above against reading only the top of a module."""
    source = tmp_path / "lazy.py"
    source.write_text("def later():\n    from serviceops.gateway import approvals\n")
    assert "serviceops.gateway.approvals" in set(imports(source))
