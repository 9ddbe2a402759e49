"""The two distributions declare what their code imports, in ranges the lock satisfies.

``pyproject.toml`` (modelguard) and ``include/pyproject.toml`` (modelguard-examples) hold
ranges; ``requirements.lock`` pins the tested set and every install uses it as
constraints. A range the lock falls outside would make ``pip install -c requirements.lock``
fail; an import of a distribution that is not declared works here only because something else
pulled it in.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# distribution name -> (pyproject, {package: its source folder})
PROJECTS = {
    "modelguard": (ROOT / "pyproject.toml", {"modelguard": ROOT / "plugins" / "modelguard"}),
    "modelguard-examples": (
        ROOT / "include" / "pyproject.toml",
        {
            p: ROOT / "include" / p
            for p in ("email_engagement", "support_escalation", "synthetic_source")
        },
    ),
}


def _project(pyproject: Path) -> dict:
    return tomllib.loads(pyproject.read_text())["project"]


def _requirements(pyproject: Path) -> list[Requirement]:
    return [Requirement(r) for r in _project(pyproject).get("dependencies", [])]


def _pins(path: Path) -> dict[str, str]:
    """name -> pinned version of a requirements file of ``name==version`` lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {line!r} is not a pin"
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _imported_modules(folder: Path) -> set[str]:
    """Dotted names of every module imported anywhere (also inside functions) under folder."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("dist", PROJECTS)
def test_the_lock_satisfies_every_declared_range(dist):
    pyproject, _ = PROJECTS[dist]
    lock = _pins(ROOT / "requirements.lock")
    for req in _requirements(pyproject):
        name = canonicalize_name(req.name)
        if name in PROJECTS:
            version = _project(PROJECTS[name][0]).get("version") or _dynamic_version(name)
        else:
            assert name in lock, f"{dist} depends on {req}, which requirements.lock does not pin"
            version = lock[name]
        assert req.specifier.contains(version, prereleases=True), (
            f"{dist} depends on {req}, but the pinned version is {version}"
        )


def test_requirements_txt_pins_agree_with_the_lock():
    lock = _pins(ROOT / "requirements.lock")
    for name, version in _pins(ROOT / "requirements.txt").items():
        assert lock.get(name) == version, (
            f"requirements.txt pins {name}=={version}, requirements.lock {lock.get(name)}"
        )


def _dynamic_version(dist: str) -> str:
    """modelguard's version: read by hatchling from the package's ``__version__``."""
    _, packages = PROJECTS[dist]
    (folder,) = packages.values()
    tree = ast.parse((folder / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__version__"]:
            return node.value.value
    raise AssertionError(f"{folder / '__init__.py'} has no __version__")


@pytest.mark.parametrize("dist", PROJECTS)
def test_every_imported_distribution_is_declared(dist):
    pyproject, packages = PROJECTS[dist]
    declared = {canonicalize_name(r.name) for r in _requirements(pyproject)}
    ours = {package: name for name, (_, pkgs) in PROJECTS.items() for package in pkgs}
    providers = packages_distributions()
    missing = []
    imported = set().union(*(_imported_modules(folder) for folder in packages.values()))
    for module in sorted(imported):
        top = module.split(".", 1)[0]
        if top in sys.stdlib_module_names or top == "__future__" or ours.get(top) == dist:
            continue
        if module.startswith("airflow.providers."):
            # a provider is its own distribution: airflow.providers.standard -> ...-standard
            needed = {canonicalize_name(f"apache-airflow-providers-{module.split('.')[2]}")}
        elif top in ours:
            needed = {ours[top]}
        else:
            needed = {canonicalize_name(d) for d in providers.get(top, [])}
            assert needed, f"{dist} imports {module}, which no installed distribution provides"
        if not needed & declared:
            missing.append(f"{module} (from {sorted(needed)})")
    assert not missing, f"{dist} imports distributions it does not declare: {missing}"
