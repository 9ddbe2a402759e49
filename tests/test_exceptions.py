"""Every error type lives in modelguard.exceptions under one base, and modelguard's own checks
raise those, never a bare ValueError, TypeError or KeyError."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import modelguard
from modelguard import exceptions
from modelguard.exceptions import InvalidArgumentError, ModelguardError, NotADatetimeError

PACKAGE = Path(modelguard.__file__).parent
BARE = {"ValueError", "TypeError", "KeyError", "RuntimeError", "Exception"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def test_every_error_class_is_defined_in_exceptions():
    elsewhere = [
        f"{path.relative_to(PACKAGE)}: {node.name}"
        for path, tree in _modules()
        if path.name != "exceptions.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception"))
            for base in node.bases
        )
    ]
    assert not elsewhere, f"error classes outside exceptions.py: {elsewhere}"


def test_every_error_derives_from_the_base():
    errors = [
        obj
        for _, obj in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == exceptions.__name__
    ]
    assert len(errors) > 20
    assert all(issubclass(e, ModelguardError) for e in errors)


def test_no_bare_builtin_errors_are_raised():
    bare = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
        and node.exc.func.id in BARE
    ]
    assert not bare, f"raise a modelguard error instead of a builtin one at: {bare}"


def test_argument_errors_stay_what_callers_catch():
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(NotADatetimeError, TypeError) and issubclass(NotADatetimeError, ValueError)
