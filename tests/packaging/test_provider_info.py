"""The entry points of the distribution and what they hand Airflow are real and valid.

``get_provider_info()`` is checked against the installed Airflow's own schemas and rules
(``provider_info.schema.json``, ``package-name`` equal to the distribution name), every module
and class it names is imported, and every hook, operator, sensor and trigger class of the
package is in it. Runs against the editable install (this checkout); tests/packaging/test_wheel.py
checks the same entry points from a built wheel in a fresh venv.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import tomllib
from pathlib import Path

import airflow
import jsonschema
import pytest
from airflow.sdk import BaseHook, BaseOperator, BaseSensorOperator
from airflow.triggers.base import BaseTrigger
from packaging.utils import canonicalize_name

from modelguard.hooks.db import UnsupportedConnectionError
from modelguard.provider_info import get_provider_info

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
AIRFLOW_DIR = Path(airflow.__file__).parent
# provider-info section -> (subpackage, base class whose subclasses it must list)
SECTIONS = {
    "hooks": ("modelguard.hooks", BaseHook),
    "operators": ("modelguard.operators", BaseOperator),
    "sensors": ("modelguard.sensors", BaseSensorOperator),
    "triggers": ("modelguard.triggers", BaseTrigger),
}


def _import_object(path: str):
    module, _, name = path.replace(":", ".").rpartition(".")
    return getattr(importlib.import_module(module), name)


def _listed_modules(info: dict, section: str) -> list[str]:
    return [m for entry in info.get(section, []) for m in entry["python-modules"]]


def _defines(module_name: str, base: type) -> list[str]:
    """Public classes defined in the module that subclass ``base`` (sensors excluded from
    operators: they have their own section)."""
    module = importlib.import_module(module_name)
    found = []
    for name, obj in vars(module).items():
        if not inspect.isclass(obj) or obj.__module__ != module_name or name.startswith("_"):
            continue
        if not issubclass(obj, base):
            continue
        if base is BaseOperator and issubclass(obj, BaseSensorOperator):
            continue
        found.append(name)
    return found


@pytest.fixture(scope="module")
def info() -> dict:
    return get_provider_info()


def test_entry_points_name_real_objects():
    entry_points = PROJECT["entry-points"]
    (plugin_path,) = entry_points["airflow.plugins"].values()
    from airflow.plugins_manager import AirflowPlugin

    plugin = _import_object(plugin_path)
    assert issubclass(plugin, AirflowPlugin) and plugin.name == "modelguard"
    provider = _import_object(entry_points["apache_airflow_provider"]["provider_info"])
    assert provider is get_provider_info
    assert PROJECT["scripts"]["modelguard"] == "modelguard.cli:main"


def test_provider_info_is_valid_for_the_installed_airflow(info):
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    # providers_manager refuses a provider whose package-name is not its distribution's name
    assert info["package-name"] == canonicalize_name(PROJECT["name"])
    integrations = {i["integration-name"] for i in info["integrations"]}
    for section in (*SECTIONS, "connection-types"):
        assert info.get(section), f"provider info lists no {section}"
    for section in SECTIONS:
        for entry in info[section]:
            assert entry["integration-name"] in integrations, (section, entry)


def test_a_fresh_dict_per_call(info):
    # Airflow adds keys (documentation-url) to the dict it gets
    assert get_provider_info() == info and get_provider_info() is not info


@pytest.mark.parametrize("section", SECTIONS)
def test_listed_modules_import_and_hold_what_their_section_says(info, section):
    _, base = SECTIONS[section]
    for module in _listed_modules(info, section):
        assert _defines(module, base), f"{module} (listed in {section}) defines no {base.__name__}"


@pytest.mark.parametrize("section", SECTIONS)
def test_every_module_defining_such_classes_is_listed(info, section):
    package_name, base = SECTIONS[section]
    package = importlib.import_module(package_name)
    listed = set(_listed_modules(info, section))
    for mod in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
        classes = _defines(mod.name, base)
        assert not classes or mod.name in listed, (
            f"{mod.name} defines {classes} but the provider info's {section} does not list it"
        )


def test_connection_types_name_hooks_that_declare_them(info):
    behaviour_schema = json.loads(
        (AIRFLOW_DIR / "customized_form_field_behaviours.schema.json").read_text()
    )
    for conn in info["connection-types"]:
        hook = _import_object(conn["hook-class-name"])
        assert issubclass(hook, BaseHook)
        # what providers_manager._import_hook reads; a mismatch is logged and the hook dropped
        assert hook.conn_type == conn["connection-type"]
        assert hook.hook_name == conn["hook-name"]
        assert (
            hasattr(hook, hook.conn_name_attr)
            or hook.conn_name_attr in inspect.signature(hook.__init__).parameters
        )
        behaviour = conn.get("ui-field-behaviour")
        if behaviour:
            jsonschema.validate(
                {
                    "hidden_fields": behaviour.get("hidden-fields", []),
                    "relabeling": behaviour.get("relabeling", {}),
                    "placeholders": behaviour.get("placeholders", {}),
                },
                behaviour_schema,
            )


def test_airflow_discovers_the_provider_and_its_connection_type():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "modelguard" in ProvidersManager().providers  # what `airflow providers list` shows
    hook = ProvidersManagerTaskRuntime().hooks["modelguard"]  # how tasks resolve a conn type
    assert hook is not None, "the modelguard connection type's hook was not importable"
    assert (hook.hook_class_name, hook.package_name, hook.connection_id_attribute_name) == (
        "modelguard.hooks.db.ModelguardDbHook",
        "modelguard",
        "conn_id",
    )


def test_a_modelguard_connection_is_its_sqlalchemy_url(monkeypatch, tmp_path):
    from modelguard.hooks.db import ModelguardDbHook

    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_MG_URL",
        json.dumps({"conn_type": "modelguard", "extra": {"sqlalchemy_url": url}}),
    )
    assert ModelguardDbHook("mg_url").get_sqlalchemy_url() == url

    monkeypatch.setenv("AIRFLOW_CONN_MG_EMPTY", json.dumps({"conn_type": "modelguard"}))
    with pytest.raises(UnsupportedConnectionError, match="'mg_empty' has type 'modelguard' but no"):
        ModelguardDbHook("mg_empty").get_sqlalchemy_url()
