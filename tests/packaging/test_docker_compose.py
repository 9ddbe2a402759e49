"""docker-compose.yaml against the topology the native stack runs (scripts/airflow_stack.py).

There is no Docker engine here, so the file is parsed (PyYAML, anchors and merge keys resolved)
and checked: one service per Airflow component, the shared ``x-airflow-common`` block, health
checks and start order, the image built from ``docker/Dockerfile`` on the pinned Airflow with
the modelguard wheels built in its first stage (a build of exactly what that stage copies is
run here too), the repo's DAGs and config mounted, the packages coming from the image and not
from mounts or PYTHONPATH, the executor and Execution API, the databases (metadata
apart from modelguard's, all created by the init SQL) and the modelguard connections, and that
every ``AIRFLOW__SECTION__KEY`` exists in the installed Airflow.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from sqlalchemy.engine import make_url

from modelguard.config import load_config, model_config_files

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
STACK_SCRIPT = ROOT / "scripts" / "airflow_stack.py"
FALLBACK_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")

POSTGRES = "postgres"
INIT = "airflow-init"
COMMON = "x-airflow-common"
# Repo folders the Airflow containers need, mounted from the repo.
REPO_MOUNTS = ("dags", "config")
# Source folders of the two distributions: installed in the image as wheels, never mounted.
INSTALLED = ("plugins", "include")
WHEELS = ("modelguard", "modelguard_examples")
# `airflow jobs check --job-type` of the components checked through the metadata DB.
JOB_TYPES = {"dag-processor": "DagProcessorJob", "triggerer": "TriggererJob"}
API_SERVER_DEFAULT_PORT = 8080  # [api] port
SCHEDULER_HEALTH_PORT = 8974  # [scheduler] scheduler_health_check_server_port
MERGE_TAG = "tag:yaml.org,2002:merge"


# ---------------------------------------------------------------------------------------------
# loading


def _load_stack_module():
    """scripts/airflow_stack.py as a module, or None while it does not exist."""
    if not STACK_SCRIPT.is_file():
        return None
    name = "_modelguard_airflow_stack"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, STACK_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@pytest.fixture(scope="module")
def stack_module():
    return _load_stack_module()


@pytest.fixture(scope="module")
def components(stack_module) -> tuple[str, ...]:
    found = getattr(stack_module, "COMPONENTS", None)
    return tuple(found) if found else FALLBACK_COMPONENTS


@pytest.fixture(scope="module")
def compose_text() -> str:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text) -> dict:
    doc = yaml.safe_load(compose_text)
    assert isinstance(doc, dict), "docker-compose.yaml is not a YAML mapping"
    assert isinstance(doc.get("services"), dict), "docker-compose.yaml has no services mapping"
    return doc


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose) -> dict:
    block = compose.get(COMMON)
    assert isinstance(block, dict), f"docker-compose.yaml has no {COMMON} mapping"
    return block


@pytest.fixture(scope="module")
def common_env(common) -> dict[str, str]:
    assert "environment" in common, f"{COMMON} has no environment"
    return _env(common)


@pytest.fixture(scope="module")
def airflow_services(services) -> dict[str, dict]:
    return {name: svc for name, svc in services.items() if name != POSTGRES}


@pytest.fixture(scope="module")
def by_component(services, components) -> dict[str, str]:
    """component -> the one service whose command runs that airflow sub-command."""
    found: dict[str, list[str]] = {c: [] for c in components}
    for name, svc in services.items():
        if name == INIT or "entrypoint" in svc:
            continue  # init runs a script through its own entrypoint
        args = _command(svc)
        if args and args[0] in found:
            found[args[0]].append(name)
    for component, names in found.items():
        assert len(names) == 1, (
            f"component {component!r} must run in exactly one service "
            f"(command: {component}), found {names or 'none'}"
        )
    return {c: names[0] for c, names in found.items()}


@pytest.fixture(scope="module")
def mounts(common) -> dict[str, str]:
    """repo folder name -> container path, for the repo's bind mounts of x-airflow-common."""
    result = {}
    for source, target, _mode in _volumes(common):
        if source.startswith((".", "/")):  # a bind mount (else a named volume)
            host = (ROOT / source).resolve()
            assert host.exists(), f"{COMMON} mounts {source} at {target}, but {host} does not exist"
            if host.parent == ROOT:
                result[host.name] = target
    return result


@pytest.fixture(scope="module")
def init_sql(services) -> str:
    scripts = [
        (source, target)
        for source, target, _mode in _volumes(services[POSTGRES])
        if target.startswith("/docker-entrypoint-initdb.d/")
    ]
    assert scripts, "postgres mounts no init script into /docker-entrypoint-initdb.d/"
    texts = []
    for source, target in scripts:
        path = (ROOT / source).resolve()
        assert path.is_file(), f"init script {source} (mounted at {target}) does not exist"
        assert path.is_relative_to(ROOT / "docker"), f"init script {source} is not under docker/"
        texts.append(path.read_text())
    return "\n".join(texts)


@pytest.fixture(scope="module")
def conn_ids(common_env, mounts) -> list[str]:
    """Every connection id the mounted model configs name (source and registry)."""
    folder = _host_path(common_env["MODELGUARD_CONFIG"], mounts)
    ids: list[str] = []
    for config in map(load_config, model_config_files(folder)):
        for conn_id in (config.source.conn_id, config.storage.registry_conn_id):
            if conn_id not in ids:
                ids.append(conn_id)
    return ids


# ---------------------------------------------------------------------------------------------
# helpers


def _env(block: dict) -> dict[str, str]:
    env = block.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _command(svc: dict) -> list[str]:
    cmd = svc.get("command")
    if cmd is None:
        return []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def _volumes(svc: dict) -> list[tuple[str, str, str]]:
    """(source, target, mode) of short-syntax and long-syntax volumes."""
    result = []
    for vol in svc.get("volumes") or []:
        if isinstance(vol, dict):
            mode = "ro" if vol.get("read_only") else "rw"
            result.append((str(vol.get("source", "")), str(vol["target"]), mode))
        else:
            parts = str(vol).split(":")
            result.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"))
    return result


def _healthcheck_text(svc: dict) -> str:
    test = (svc.get("healthcheck") or {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def _depends_on(svc: dict) -> dict[str, dict]:
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):  # short form: no condition
        return {name: {} for name in deps}
    return deps


def _host_path(container_path: str, mounts: dict[str, str]) -> Path:
    """The repo path behind a container path, through the repo's bind mounts."""
    path = PurePosixPath(container_path)
    for folder, target in mounts.items():
        if path.is_relative_to(target):
            return ROOT / folder / path.relative_to(target)
    raise AssertionError(f"{container_path} is not under any mounted repo folder {mounts}")


def _connection(common_env: dict[str, str], conn_id: str) -> dict:
    """The JSON of ``AIRFLOW_CONN_<CONN_ID>`` in the common environment."""
    var = f"AIRFLOW_CONN_{conn_id.upper()}"
    assert var in common_env, f"{COMMON} does not define connection {conn_id} ({var})"
    try:
        conn = json.loads(common_env[var])
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{var} is not JSON: {exc}") from exc
    assert isinstance(conn, dict), f"{var} is not a JSON object"
    return conn


def _truthy(value: str) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _airflow_pin() -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^\s*apache-airflow\s*==\s*([^\s;#]+)", line)
        if m:
            return m.group(1)
    raise AssertionError("requirements.txt pins no apache-airflow==<version>")


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined."""
    instructions, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    return instructions


def _dockerfile(common) -> Path:
    build = common.get("build")
    assert isinstance(build, dict), f"{COMMON} has no build mapping (context and dockerfile)"
    context = (ROOT / str(build.get("context", "."))).resolve()
    assert context == ROOT, f"build context is {build.get('context')!r}, expected the repo root"
    assert build.get("dockerfile") == "docker/Dockerfile", (
        f"build dockerfile is {build.get('dockerfile')!r}, expected docker/Dockerfile"
    )
    path = context / build["dockerfile"]
    assert path.is_file(), f"{path} does not exist"
    return path


def _installed_airflow_options() -> dict[str, set[str]]:
    spec = importlib.util.find_spec("airflow")
    assert spec and spec.submodule_search_locations, "Airflow is not installed in this venv"
    path = Path(next(iter(spec.submodule_search_locations))) / "config_templates" / "config.yml"
    sections = yaml.safe_load(path.read_text())
    return {name: set((body or {}).get("options") or {}) for name, body in sections.items()}


def _api_server_port(svc: dict, env: dict[str, str]) -> int:
    args = _command(svc)
    for i, arg in enumerate(args):
        if arg in ("-p", "--port") and i + 1 < len(args):
            return int(args[i + 1])
        if arg.startswith("--port="):
            return int(arg.split("=", 1)[1])
    return int(env.get("AIRFLOW__API__PORT", API_SERVER_DEFAULT_PORT))


# ---------------------------------------------------------------------------------------------
# the services


def test_services_are_postgres_init_and_one_per_component(services, components, by_component):
    expected = {POSTGRES, INIT, *by_component.values()}
    assert set(services) == expected, (
        f"services should be exactly {sorted(expected)} (postgres, airflow-init and one per "
        f"component of {components}); extra {sorted(set(services) - expected)}, "
        f"missing {sorted(expected - set(services))}"
    )
    assert str(services[POSTGRES].get("image", "")).startswith(("postgres:16", "postgres:15")), (
        f"postgres runs image {services[POSTGRES].get('image')!r}, expected postgres:16 or 15"
    )
    script = " ".join(_command(services[INIT]))
    assert "airflow db migrate" in script, "airflow-init does not run `airflow db migrate`"


def test_common_block_is_merged_into_every_airflow_service(compose_text, common, airflow_services):
    for key in ("build", "environment", "volumes", "user", "depends_on"):
        assert key in common, f"{COMMON} has no {key!r}"
    # By anchor: each Airflow service's `<<:` is the very node of x-airflow-common.
    root = yaml.compose(compose_text)
    top = {k.value: v for k, v in root.value}
    common_node = top[COMMON]
    for name_node, svc_node in top["services"].value:
        if name_node.value not in airflow_services:
            continue
        merged = [v for k, v in svc_node.value if k.tag == MERGE_TAG]
        assert any(v is common_node for v in merged), (
            f"service {name_node.value} does not merge {COMMON} (`<<: *airflow-common`)"
        )
    # By value: nothing of the common block is lost or changed in a service.
    for name, svc in airflow_services.items():
        for key, value in common.items():
            assert key in svc, f"service {name} lacks {key!r} of {COMMON}"
            if key == "environment":
                env = _env(svc)
                for var, val in _env(common).items():
                    assert env.get(var) == val, (
                        f"service {name} sets {var}={env.get(var)!r}, {COMMON} has {val!r}"
                    )
            elif key == "depends_on":
                deps = _depends_on(svc)
                for dep, cond in _depends_on(common).items():
                    assert deps.get(dep) == cond, (
                        f"service {name} depends on {dep} with {deps.get(dep)}, {COMMON} has {cond}"
                    )
            elif key == "user" and name == INIT:
                continue  # init runs as root to prepare the volumes, as in the official file
            else:
                assert svc[key] == value, f"service {name} overrides {key!r} of {COMMON}"


def test_every_long_running_service_has_a_healthcheck(services, by_component, common_env):
    for name, svc in services.items():
        if name == INIT:
            continue  # runs once and exits
        hc = svc.get("healthcheck") or {}
        assert hc.get("test") and not hc.get("disable"), f"service {name} has no healthcheck"

    assert "pg_isready" in _healthcheck_text(services[POSTGRES]), (
        "postgres healthcheck does not use pg_isready"
    )
    api = by_component["api-server"]
    api_port = _api_server_port(services[api], _env(services[api]))
    assert f"localhost:{api_port}/api/v2/monitor/health" in _healthcheck_text(services[api]), (
        f"service {api} healthcheck does not query "
        f"http://localhost:{api_port}/api/v2/monitor/health"
    )
    scheduler = by_component["scheduler"]
    sched_env = _env(services[scheduler])
    health_port = int(
        sched_env.get(
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT", SCHEDULER_HEALTH_PORT
        )
    )
    assert f"localhost:{health_port}/health" in _healthcheck_text(services[scheduler]), (
        f"service {scheduler} healthcheck does not query its health check server "
        f"http://localhost:{health_port}/health"
    )
    assert _truthy(sched_env.get("AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK", "")), (
        f"service {scheduler} is checked on :{health_port} but "
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK is not true (the server would not run)"
    )
    for component, job_type in JOB_TYPES.items():
        if component not in by_component:
            continue
        name = by_component[component]
        text = _healthcheck_text(services[name])
        assert "airflow jobs check" in text and f"--job-type {job_type}" in text, (
            f"service {name} healthcheck is not `airflow jobs check --job-type {job_type}`"
        )
        assert "--hostname" in text and "HOSTNAME" in text, (
            f"service {name} healthcheck does not restrict the job check to its own --hostname"
        )


def test_start_order_waits_for_postgres_and_init(airflow_services):
    for name, svc in airflow_services.items():
        deps = _depends_on(svc)
        assert deps.get(POSTGRES, {}).get("condition") == "service_healthy", (
            f"service {name} does not depend on {POSTGRES} with condition service_healthy"
        )
        if name == INIT:
            assert INIT not in deps, f"{INIT} depends on itself"
            continue
        assert deps.get(INIT, {}).get("condition") == "service_completed_successfully", (
            f"service {name} does not depend on {INIT} with condition "
            "service_completed_successfully"
        )


# ---------------------------------------------------------------------------------------------
# the image


def _stages(dockerfile: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(base image, stage name or "", instructions after its FROM) of each build stage."""
    stages = []
    for kw, args in _dockerfile_instructions(dockerfile):
        if kw == "FROM":
            tokens = [t for t in args.split() if not t.startswith("--")]
            name = tokens[2] if len(tokens) > 2 and tokens[1].upper() == "AS" else ""
            stages.append((tokens[0], name, []))
        else:
            assert stages, f"{dockerfile}: {kw} before the first FROM"
            stages[-1][2].append((kw, args))
    assert stages, f"{dockerfile} has no FROM"
    return stages


def _copies(instructions) -> list[tuple[str | None, list[str], str]]:
    """(--from stage or None, sources, destination) of each COPY/ADD."""
    result = []
    for kw, args in instructions:
        if kw not in ("COPY", "ADD"):
            continue
        tokens = shlex.split(args)
        flags = dict(t.partition("=")[::2] for t in tokens if t.startswith("--"))
        paths = [t for t in tokens if not t.startswith("--")]
        result.append((flags.get("--from"), paths[:-1], paths[-1]))
    return result


def _runs(instructions, command: str) -> list[list[str]]:
    return [shlex.split(args) for kw, args in instructions if kw == "RUN" and command in args]


def _file_after(tokens: list[str], flag: str) -> str | None:
    for i, tok in enumerate(tokens[:-1]):
        if tok == flag:
            return PurePosixPath(tokens[i + 1]).name
    return None


def _wheel_stage(dockerfile: Path) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The build stage that runs `pip wheel`: its name, instructions and that command."""
    for _base, name, instructions in _stages(dockerfile)[:-1]:
        for tokens in _runs(instructions, "pip wheel"):
            return name, instructions, tokens
    raise AssertionError(f"{dockerfile} has no build stage that runs `pip wheel`")


def test_image_is_built_from_the_pinned_airflow_with_the_locked_requirements(compose_text, common):
    dockerfile = _dockerfile(common)
    stages = _stages(dockerfile)
    expected = f"apache/airflow:{_airflow_pin()}"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    for base, _name, _ in stages:
        assert base == expected or base.startswith(f"{expected}-python"), (
            f"{dockerfile} has a stage FROM {base}, expected {expected} (the pin in "
            "requirements.txt)"
        )
        if base != expected:
            python = base.removeprefix(f"{expected}-python")
            assert f"{python}.0" in SpecifierSet(requires), (
                f"{dockerfile} uses Python {python}, outside pyproject's requires-python {requires}"
            )

    final = stages[-1][2]
    copied = {PurePosixPath(s).parts[0] for frm, srcs, _ in _copies(final) if not frm for s in srcs}
    for needed in ("requirements.txt", "requirements.lock"):
        assert needed in copied, f"{dockerfile} does not COPY {needed} into the image"
    for folder in INSTALLED:
        assert folder not in copied, (
            f"{dockerfile} copies {folder}/ into the image; it is installed as a wheel"
        )
    installs = _runs(final, "pip install")
    assert any(
        _file_after(t, "-r") == "requirements.txt" and _file_after(t, "-c") == "requirements.lock"
        for t in installs
    ), f"{dockerfile} has no `pip install -r requirements.txt -c requirements.lock`"

    # The wheels: built by the `pip wheel` stage, copied from it, installed under the lock.
    stage, _, wheel_cmd = _wheel_stage(dockerfile)
    assert "--no-deps" in wheel_cmd, "the wheel stage should build the two wheels only"
    wheel_dir = PurePosixPath(wheel_cmd[wheel_cmd.index("--wheel-dir") + 1])
    dests = [
        PurePosixPath(dest)
        for frm, srcs, dest in _copies(final)
        if frm == stage and any(PurePosixPath(s) == wheel_dir for s in srcs)
    ]
    assert dests, f"the image does not COPY --from={stage} the wheels of {wheel_dir}"
    for name in WHEELS:
        assert any(
            _file_after(t, "-c") == "requirements.lock"
            and any(
                PurePosixPath(a).parent in dests
                and PurePosixPath(a).name.startswith(f"{name}-")
                and a.endswith(".whl")
                for a in t
            )
            for t in installs
        ), f"{dockerfile} does not `pip install {dests[0]}/{name}-*.whl -c requirements.lock`"

    for path, text in ((COMPOSE_FILE, compose_text), (dockerfile, dockerfile.read_text())):
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text, (
            f"{path.name} mentions _PIP_ADDITIONAL_REQUIREMENTS; requirements belong in the image"
        )


def test_the_wheel_stage_copies_what_the_build_needs(common, tmp_path):
    """Replays the wheel stage here: its COPYs into a folder, then its `pip wheel` on them."""
    _, instructions, wheel_cmd = _wheel_stage(_dockerfile(common))
    container = tmp_path / "container"
    for frm, srcs, dest in _copies(instructions):
        assert frm is None, "the wheel stage copies from another stage"
        for src in srcs:
            host = ROOT / src
            assert host.exists(), f"the wheel stage copies {src}, which does not exist"
            target = container / dest.lstrip("/")
            if dest.endswith("/"):
                target = target / host.name
            if host.is_dir():
                shutil.copytree(host, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(host, target)
    wheel_dir = wheel_cmd[wheel_cmd.index("--wheel-dir") + 1]
    sources = [a for a in wheel_cmd if a.startswith("/") and a != wheel_dir]
    assert sources, f"`{' '.join(wheel_cmd)}` builds nothing"
    out = tmp_path / "wheels"
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(out)]
    cmd += [str(container / a.lstrip("/")) for a in sources]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    built = sorted(p.name.split("-", 1)[0] for p in out.glob("*.whl"))
    assert built == sorted(WHEELS), built


# ---------------------------------------------------------------------------------------------
# code and config


def test_repo_folders_are_mounted_and_exist(common_env, mounts):
    for folder in REPO_MOUNTS:
        assert folder in mounts, f"{COMMON} does not mount the repo's {folder}/"
        assert (ROOT / folder).is_dir(), f"mounted repo folder {folder}/ does not exist"
    dags = common_env.get("AIRFLOW__CORE__DAGS_FOLDER", "/opt/airflow/dags")
    assert dags == mounts["dags"], (
        f"AIRFLOW__CORE__DAGS_FOLDER is {dags!r} but dags/ is mounted at {mounts['dags']}"
    )


def test_the_packages_come_from_the_image_not_from_mounts(services, common_env, mounts):
    for folder in INSTALLED:
        assert folder not in mounts, (
            f"{COMMON} mounts the repo's {folder}/; it is installed in the image as a wheel"
        )
    plugins = PurePosixPath(common_env.get("AIRFLOW__CORE__PLUGINS_FOLDER", "/opt/airflow/plugins"))
    assert not any(plugins.is_relative_to(target) for target in mounts.values()), (
        f"AIRFLOW__CORE__PLUGINS_FOLDER {plugins} is a mounted repo folder; the plugin comes "
        "from the wheel's entry point"
    )
    for name, svc in services.items():
        assert "PYTHONPATH" not in _env(svc), (
            f"service {name} sets PYTHONPATH; modelguard and the example models are installed"
        )


def test_modelguard_config_points_at_the_mounted_config_folder(common_env, mounts):
    value = common_env.get("MODELGUARD_CONFIG")
    assert value, f"{COMMON} does not set MODELGUARD_CONFIG"
    assert PurePosixPath(value).is_relative_to(mounts["config"]), (
        f"MODELGUARD_CONFIG={value} is not under the mounted config/ ({mounts['config']})"
    )
    host = _host_path(value, mounts)
    assert host.is_dir(), f"MODELGUARD_CONFIG={value} is {host} in the repo, not the config folder"
    assert model_config_files(host) == model_config_files(ROOT / "config")


# ---------------------------------------------------------------------------------------------
# topology settings


def test_executor_and_execution_api(services, common_env, by_component):
    assert common_env.get("AIRFLOW__CORE__EXECUTOR") == "LocalExecutor", (
        f"AIRFLOW__CORE__EXECUTOR is {common_env.get('AIRFLOW__CORE__EXECUTOR')!r}, "
        "expected LocalExecutor"
    )
    url = common_env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "")
    api = by_component["api-server"]
    port = _api_server_port(services[api], _env(services[api]))
    parts = urlsplit(url)
    assert (parts.hostname, parts.port) == (api, port), (
        f"AIRFLOW__CORE__EXECUTION_API_SERVER_URL={url!r} does not point at the api-server "
        f"service {api}:{port}"
    )
    assert parts.path.rstrip("/") == "/execution", (
        f"AIRFLOW__CORE__EXECUTION_API_SERVER_URL={url!r} does not end in /execution/"
    )


def test_jwt_secret_is_shared_by_every_component(common_env, airflow_services):
    secret = common_env.get("AIRFLOW__API_AUTH__JWT_SECRET")
    assert secret, f"AIRFLOW__API_AUTH__JWT_SECRET is not set in {COMMON}'s environment"
    for name, svc in airflow_services.items():
        assert _env(svc).get("AIRFLOW__API_AUTH__JWT_SECRET") == secret, (
            f"service {name} does not get the shared AIRFLOW__API_AUTH__JWT_SECRET"
        )


def test_airflow_settings_exist_in_the_installed_airflow(services):
    options = _installed_airflow_options()
    for name, svc in services.items():
        for var in _env(svc):
            if not var.startswith("AIRFLOW__"):
                continue
            section, _, key = var.removeprefix("AIRFLOW__").lower().partition("__")
            assert key in options.get(section, set()), (
                f"service {name} sets {var}, but the installed Airflow has no [{section}] {key}"
            )


def test_settings_match_the_native_stack(stack_module, common_env):
    # scripts/airflow_stack.py's topology_settings() (fixed values) and SHARED_SETTINGS (names
    # whose values are deployment-specific: DB, secrets, URLs, paths). Extend NOT_IN_COMPOSE if
    # the native stack gains a setting the image provides itself.
    assert stack_module is not None, "scripts/airflow_stack.py is missing"
    fn = stack_module.topology_settings
    required = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if required:
        pytest.skip(f"topology_settings() needs arguments {[p.name for p in required]}")
    not_in_compose = {"AIRFLOW_HOME"}  # the official image sets it (/opt/airflow)
    for var, value in fn().items():
        if var in not_in_compose:
            continue
        assert var in common_env, f"the native stack sets {var}={value!r}; {COMMON} does not"
        got, want = common_env[var], str(value)
        if want.lower() in ("true", "false"):
            got, want = got.lower(), want.lower()
        assert got == want, f"{var} is {common_env[var]!r} in compose, {value!r} natively"
    for var in getattr(stack_module, "SHARED_SETTINGS", ()):
        if var not in not_in_compose:
            assert common_env.get(var), f"the native stack shares {var}; {COMMON} does not set it"


# ---------------------------------------------------------------------------------------------
# databases and connections


def test_metadata_db_is_apart_from_the_modelguard_databases(
    services, common_env, conn_ids, init_sql
):
    url = make_url(common_env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""))
    assert url.get_backend_name() == "postgresql", f"metadata DB {url!r} is not PostgreSQL"
    assert url.host == POSTGRES, f"metadata DB host is {url.host!r}, expected service {POSTGRES}"
    pg_env = _env(services[POSTGRES])
    assert pg_env.get("POSTGRES_DB") == url.database, (
        f"metadata DB {url.database!r} is not the POSTGRES_DB {pg_env.get('POSTGRES_DB')!r} "
        "the postgres image creates"
    )
    assert (pg_env.get("POSTGRES_USER"), pg_env.get("POSTGRES_PASSWORD")) == (
        url.username,
        url.password,
    ), "metadata DB user/password differ from postgres' POSTGRES_USER/POSTGRES_PASSWORD"

    created = set(re.findall(r"(?i)\bCREATE\s+DATABASE\s+\"?(\w+)", init_sql))
    databases = {}
    for conn_id in conn_ids:
        conn = _connection(common_env, conn_id)
        databases[conn_id] = conn.get("schema")
        assert conn.get("schema") in created, (
            f"connection {conn_id}'s database {conn.get('schema')!r} is not created by the "
            f"init SQL (it creates {sorted(created)})"
        )
        role = re.search(
            rf"(?i)\bCREATE\s+(?:ROLE|USER)\s+\"?{re.escape(str(conn.get('login')))}\b[^;]*"
            rf"PASSWORD\s+'{re.escape(str(conn.get('password')))}'",
            init_sql,
        )
        assert role, (
            f"connection {conn_id}'s login {conn.get('login')!r} / password "
            f"{conn.get('password')!r} are not a role the init SQL creates"
        )
    assert url.database not in databases.values(), (
        f"the metadata DB {url.database!r} is also a modelguard database {databases}"
    )
    assert len(set(databases.values())) == len(databases), (
        f"registry and source share one database {databases}; keep them separate"
    )


def test_modelguard_connections_point_at_postgres(common_env, conn_ids):
    for conn_id in conn_ids:
        var = f"AIRFLOW_CONN_{conn_id.upper()}"
        conn = _connection(common_env, conn_id)
        assert conn.get("conn_type") in ("postgres", "postgresql"), (
            f"{var} has conn_type {conn.get('conn_type')!r}, expected postgres"
        )
        assert conn.get("host") == POSTGRES and int(conn.get("port", 5432)) == 5432, (
            f"{var} points at {conn.get('host')}:{conn.get('port')}, expected {POSTGRES}:5432"
        )
        for field in ("login", "password", "schema"):
            assert conn.get(field), f"{var} has no {field}"


# ---------------------------------------------------------------------------------------------
# network


def test_ports_are_published_on_loopback_only(services, by_component):
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            if isinstance(port, dict):
                host_ip = port.get("host_ip")
            else:
                parts = str(port).rsplit(":", 2)
                host_ip = parts[0] if len(parts) == 3 else None
            assert host_ip == "127.0.0.1", (
                f"service {name} publishes {port!r} on {host_ip or 'every interface'}, "
                "expected 127.0.0.1 only"
            )
    api = by_component["api-server"]
    listen = _api_server_port(services[api], _env(services[api]))
    published = [
        int(p["target"]) if isinstance(p, dict) else int(str(p).rsplit(":", 1)[-1])
        for p in services[api].get("ports") or []
    ]
    assert listen in published, f"service {api} does not publish its port {listen}"


def test_init_unpauses_what_the_native_setup_unpauses(services, stack_module):
    script = "\n".join(services["airflow-init"]["command"])
    assert "airflow dags reserialize" in script, "airflow-init must parse the DAGs before unpausing"
    dependent = stack_module.dependent_dags(ROOT / "config")
    assert dependent, "the native stack unpauses nothing: the comparison would be empty"
    # The init lists the DAGs with a command of its own: run it on the repo's config folder.
    listing = re.search(r"for dag_id in \$\$\((python -c '[^']*')\); do", script)
    assert listing, "airflow-init does not list the DAGs to unpause with a python command"
    env = dict(os.environ, MODELGUARD_CONFIG=str(ROOT / "config"))
    listed = subprocess.run(
        [sys.executable, "-c", shlex.split(listing.group(1))[2]],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.split()
    assert tuple(listed) == dependent, "airflow-init unpauses other DAGs than the native stack"
    assert "unpause" in script
