"""The Model health page's FastAPI app: the routes of :mod:`modelguard.links`, and their JSON API.

Mounted by the plugin at ``/modelguard`` (Airflow mounts plugin apps under their
``url_prefix``; links here are built from the mount's ``root_path``, so the page works under
any prefix Airflow itself is served at):

``/``                                    the models this user may read, with links
``/models/{model}``                      the page (``?start=&end=``: another period)
``/models/{model}/report?dag_id&start&end``  one interval's stored HTML drift report
``/api/models``                          the models (JSON)
``/api/models/{model}``                  the page's data (JSON; same ``?start=&end=``)
``/api/models/{model}/report?start&end`` the monitoring report of a period (JSON)
``/static/...``                          the page's CSS and JS (shipped in the package)

Authentication and authorization are Airflow's (:mod:`modelguard.web.auth`): without a login
the API answers 401 and the pages redirect to Airflow's login; a model needs read access to
its monitoring DAG (403 otherwise). Pages are read-only: nothing here writes to a store.
Every HTML answer carries a Content-Security-Policy that allows this origin only, so a page
cannot load anything from the internet.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from modelguard.links import PAGE_PREFIX, model_api_url, model_page_url, run_url
from modelguard.web.auth import ApiUser, PageUser, can_read_model, login_url, require_model

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'self'"
)
_PLOT_SRC = re.compile(r'src="(plots/[^"]+)"')


# ----------------------------------------------------------------------------- models and stores


@dataclass(frozen=True)
class Models:
    """The configured models by name, and the config files that could not be loaded."""

    configs: dict[str, Any]
    broken: list[str] = field(default_factory=list)


def configured_models() -> Models:
    """Every model config where the DAGs find them (``MODELGUARD_CONFIG`` or ``[modelguard]
    config_path``), read on each request so a new or fixed file shows up without a restart."""
    from modelguard.config import load_config, model_config_files
    from modelguard.exceptions import ConfigError
    from modelguard.factory import config_location

    try:
        files = model_config_files(config_location())
    except ConfigError as exc:
        return Models({}, [str(exc)])
    configs: dict[str, Any] = {}
    broken = []
    for path in files:
        try:
            config = load_config(path)
        except ConfigError as exc:
            broken.append(f"{path.name}: {'; '.join(exc.errors) or exc}")
            continue
        configs.setdefault(config.model.name, config)
    return Models(configs, broken)


def registry_engine(config):
    """The engine of the model's registry connection (``storage.registry_conn_id``), resolved
    as Airflow resolves connections in this process (environment variables, secrets backends)."""
    from modelguard.exceptions import ConfigError, StoreUnavailableError
    from modelguard.hooks.db import ModelguardDbHook
    from modelguard.storage.source import engine_for_url

    try:
        return engine_for_url(
            ModelguardDbHook(config.storage.registry_conn_id).get_sqlalchemy_url()
        )
    except (StoreUnavailableError, ConfigError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"the registry of {config.model.name!r}: {exc}"
        ) from exc


def _period(start: str | None, end: str | None, *, required: bool = False):
    from modelguard.core.window import to_naive_utc
    from modelguard.exceptions import DataValidationError
    from modelguard.reporting import Period

    if not start and not end and not required:
        return None
    if not (start and end):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "give both start and end as ISO date-times, e.g. start=2026-06-01T00:00:00&"
            "end=2026-06-08T00:00:00 (naive = UTC)",
        )
    try:
        bounds = [to_naive_utc(datetime.fromisoformat(t.strip())) for t in (start, end)]
        return Period(*bounds)
    except (ValueError, DataValidationError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"bad period: {exc}") from exc


def _report(config, period, base: str):
    """The model's report for ``period`` (default: its last week of stored history)."""
    import sqlalchemy.exc

    from modelguard.exceptions import StoreUnavailableError
    from modelguard.pipelines.model_report import build_model_report, recent_period

    engine = registry_engine(config)
    try:
        if period is None:
            period = recent_period(config, engine)
        return build_model_report(config, engine, period, base_url=base)
    except (StoreUnavailableError, sqlalchemy.exc.OperationalError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"the registry of {config.model.name!r} cannot be read: {exc}",
        ) from exc


def _model_config(model: str):
    config = configured_models().configs.get(model)
    if config is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no configured model is named {model!r}")
    return config


def _base(request: Request) -> str:
    """Airflow's own prefix: the mount's ``root_path`` without ``/modelguard``."""
    root = request.scope.get("root_path", "") or ""
    return root[: -len(PAGE_PREFIX)] if root.endswith(PAGE_PREFIX) else root


def _json(content: str) -> Response:
    return Response(content=content, media_type="application/json")


# ----------------------------------------------------------------------------- templates


@cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("modelguard.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda t: "-" if t is None else t.strftime("%Y-%m-%d %H:%M")
    env.filters["num"] = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"
    env.filters["pct"] = lambda v: "-" if v is None else f"{v:.0%}"
    return env


def _html(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    root = request.scope.get("root_path", "") or ""
    text = (
        _templates()
        .get_template(template)
        .render(static=f"{root}/static", home=f"{root}/", **context)
    )
    return HTMLResponse(text, status_code=status_code, headers={"Content-Security-Policy": CSP})


def _html_error(request: Request, exc: HTTPException) -> HTMLResponse:
    return _html(request, "error.html", exc.status_code, code=exc.status_code, message=exc.detail)


# ----------------------------------------------------------------------------- the drift report


def _report_file(config, run) -> Path:
    """The stored HTML report of a drift run, only when it lies inside ``storage.report_root``."""
    missing = HTTPException(
        status.HTTP_404_NOT_FOUND, "this interval has no HTML drift report under report_root"
    )
    if not run.html_uri:
        raise missing
    parts = urlsplit(run.html_uri)
    if parts.scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
        raise missing
    root = Path(config.storage.report_root).resolve()
    try:
        path = Path(url2pathname(parts.path)).resolve(strict=True)
    except (OSError, RuntimeError):
        raise missing from None
    if not path.is_relative_to(root) or not path.is_file():
        raise missing
    return path


def _inline_plots(text: str, folder: Path, root: Path) -> str:
    """The report links its PNG plots relatively; served from here they would not resolve, so
    each one under the report's folder becomes a ``data:`` URI (nothing else is read)."""

    def replace(match: re.Match) -> str:
        relative = unquote(html.unescape(match.group(1)))
        try:
            path = (folder / relative).resolve(strict=True)
        except (OSError, RuntimeError):
            return match.group(0)
        if (
            not path.is_relative_to(folder)
            or not path.is_relative_to(root)
            or path.suffix != ".png"
        ):
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:image/png;base64,{data}"'

    return _PLOT_SRC.sub(replace, text)


# ----------------------------------------------------------------------------- the app


def create_app() -> FastAPI:
    """The app; the plugin mounts :func:`get_app`'s instance under ``/modelguard``."""
    app = FastAPI(
        title="modelguard: Model health",
        description="The Model health page and its JSON API (read-only), behind Airflow's login.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, user: PageUser):
        if user is None:
            return RedirectResponse(login_url(request), status_code=status.HTTP_302_FOUND)
        models = configured_models()
        base = _base(request)
        readable = [
            {
                "name": name,
                "page_url": model_page_url(base, name),
                "api_url": model_api_url(base, name),
            }
            for name in sorted(models.configs)
            if can_read_model(user, name)
        ]
        return _html(request, "index.html", models=readable, broken=models.broken)

    @app.get("/models/{model}", response_class=HTMLResponse, include_in_schema=False)
    def model_page(
        request: Request,
        model: str,
        user: PageUser,
        start: str | None = None,
        end: str | None = None,
    ):
        if user is None:
            return RedirectResponse(login_url(request), status_code=status.HTTP_302_FOUND)
        try:
            require_model(user, model)
            config = _model_config(model)
            report = _report(config, _period(start, end), _base(request))
        except HTTPException as exc:
            return _html_error(request, exc)
        return _html(request, "model.html", **_page_context(request, report, config))

    @app.get("/models/{model}/report", response_class=HTMLResponse, include_in_schema=False)
    def interval_report(
        request: Request,
        model: str,
        dag_id: str,
        start: str,
        end: str,
        user: PageUser,
    ):
        if user is None:
            return RedirectResponse(login_url(request), status_code=status.HTTP_302_FOUND)
        from modelguard.storage.monitoring_history import MonitoringHistory

        try:
            require_model(user, model, dag_id)
            config = _model_config(model)
            period = _period(start, end, required=True)
            run = MonitoringHistory(registry_engine(config)).drift_run(
                model, dag_id, period.start, period.end
            )
            if run is None:
                raise HTTPException(
                    status.HTTP_404_NOT_FOUND,
                    f"no drift run of {model!r} is stored for {dag_id} "
                    f"[{period.start.isoformat()}, {period.end.isoformat()})",
                )
            path = _report_file(config, run)
        except HTTPException as exc:
            return _html_error(request, exc)
        root = Path(config.storage.report_root).resolve()
        text = _inline_plots(path.read_text(encoding="utf-8"), path.parent, root)
        return HTMLResponse(text, headers={"Content-Security-Policy": CSP})

    @app.get("/api/models")
    def api_models(request: Request, user: ApiUser):
        models = configured_models()
        base = _base(request)
        listed = [
            {
                "name": name,
                "page_url": model_page_url(base, name),
                "api_url": model_api_url(base, name),
            }
            for name in sorted(models.configs)
            if can_read_model(user, name)
        ]
        return {"models": listed, "broken_configs": models.broken}

    @app.get("/api/models/{model}")
    def api_model(
        request: Request,
        model: str,
        user: ApiUser,
        start: str | None = None,
        end: str | None = None,
    ):
        from modelguard.reporting import report_json

        require_model(user, model)
        config = _model_config(model)
        return _json(report_json(_report(config, _period(start, end), _base(request))))

    @app.get("/api/models/{model}/report")
    def api_report(request: Request, model: str, start: str, end: str, user: ApiUser):
        from modelguard.reporting import report_json

        require_model(user, model)
        config = _model_config(model)
        period = _period(start, end, required=True)
        return _json(report_json(_report(config, period, _base(request))))

    return app


def _page_context(request: Request, report, config) -> dict[str, Any]:
    from modelguard.web.charts import estimate_svg, heatmaps, performance_svg

    base = _base(request)
    plots = []
    for dag_id in sorted({p.dag_id for p in report.performance}):
        points = [p for p in report.performance if p.dag_id == dag_id]
        svg = performance_svg(
            points,
            period_start=report.period.start,
            period_end=report.period.end,
            delay_hours=report.label_delay_hours,
        )
        plots.append({"dag_id": dag_id, "svg": Markup(svg), "points": points[-12:][::-1]})
    estimates = []
    for dag_id in sorted({p.dag_id for p in report.estimated_performance}):
        points = [p for p in report.estimated_performance if p.dag_id == dag_id]
        svg = estimate_svg(points, period_start=report.period.start, period_end=report.period.end)
        estimates.append({"dag_id": dag_id, "svg": Markup(svg), "points": points[-12:][::-1]})
    versions = {v.id: v for v in report.versions}
    return {
        "estimates": estimates,
        "estimate_summary": report.estimate_summary,
        "report": report,
        "config": config,
        "counts": report.counts,
        "heatmaps": heatmaps(report),
        "plots": plots,
        "versions": list(reversed(report.versions)),
        "versions_by_id": versions,
        "page_url": model_page_url(base, report.model_name),
        "api_url": model_api_url(base, report.model_name),
        "run_url": lambda dag_id, run_id: run_url(base, dag_id, run_id) if run_id else None,
        "alerts": list(report.alerts)[:50],
    }


@cache
def get_app() -> FastAPI:
    """The one app of this process (built on first use: only the api-server mounts it)."""
    return create_app()
