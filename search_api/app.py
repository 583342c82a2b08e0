"""create_app(settings): the Litestar service. Loads the model and index once (lifespan)."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, MediaType, Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from indexer.embed import load_embedder
from indexer.language import abbreviation_table, english_table
from indexer.errors import BadParameter, IndexMismatchError, IndexMissingError, NotFound, SoveiError
from indexer.settings import ROOT, Settings, get_settings

from .headers import SECURITY_HEADERS
from .index_store import IndexStore
from .pages import PAGE_ROUTES, register_filters
from .routes import API_ROUTES
from .service import Service
from .spelling import speller

log = logging.getLogger("sovei.access")
WEB = ROOT / "web"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api", "/healthz", "/schema"))


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return Response({"error": message, "status": status}, status_code=status, media_type=MediaType.JSON)
    return Template("error.html", context={"status": status, "message": message}, status_code=status,
                    media_type=MediaType.HTML)


def _handle(request: Request, exc: Exception) -> Response:
    if isinstance(exc, BadParameter):
        return _error(request, 400, str(exc) if _is_api(request) or not exc.nb else exc.nb)
    if isinstance(exc, (NotFound, NotFoundException)):
        msg = str(exc) if isinstance(exc, NotFound) else "Fant ikke siden eller ressursen."
        return _error(request, 404, msg)
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        names = ", ".join(str(e.get("key")) for e in extra if isinstance(e, dict) and e.get("key")) or "request"
        return _error(request, 400, f"Invalid parameter(s): {names}. See /schema/openapi.json for valid values.")
    if isinstance(exc, (IndexMissingError, IndexMismatchError)):
        return _error(request, 503, f"Søket er ikke klart: {exc}")
    if isinstance(exc, HTTPException) and exc.status_code == 429:
        return _error(request, 429, "For mange søk på kort tid. Vent et minutt og prøv igjen.")
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return _error(request, exc.status_code, str(exc.detail))
    logging.getLogger("sovei.error").error("unhandled %s on %s", type(exc).__name__, request.url.path,
                                           exc_info=not isinstance(exc, SoveiError))
    return _error(request, 500, "Noe gikk galt hos oss. Prøv igjen om litt.")


async def _headers(message, scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for k, v in SECURITY_HEADERS.items():
            headers[k] = v
        if scope.get("path", "").startswith("/static/"):
            headers["cache-control"] = "public, max-age=86400"
        status = message.get("status")
        start = scope.get("state", {}).get("t0")
        if start is not None:
            # Path only: query strings can describe a child and are never logged.
            log.info("%s %s %s %.1fms", scope.get("method"), scope.get("path"), status,
                     (time.perf_counter() - start) * 1000)


async def _before_request(request: Request) -> None:
    request.scope.setdefault("state", {})["t0"] = time.perf_counter()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar):
        embedder = load_embedder(settings.model, settings.threads)
        store = IndexStore(settings.index_dir, embedder.model_id)
        store.get()  # fail at start, with the fix, when the index is missing or mismatched
        speller()  # the dictionaries for «mente du»: a missing file fails here, not on a request
        english_table()  # English questions' BM25 words: a broken line fails here, named, not on a request
        abbreviation_table()  # likewise the abbreviations' written-out names
        app.state.service = Service(settings, embedder, store)
        yield

    env = Environment(loader=FileSystemLoader(str(WEB / "templates")), autoescape=select_autoescape(default=True))
    register_filters(env)
    middleware = []
    if settings.rate_limit > 0:
        from litestar.middleware.rate_limit import RateLimitConfig

        middleware.append(RateLimitConfig(rate_limit=("minute", settings.rate_limit), exclude=["/static", "/healthz"]).middleware)
    return Litestar(
        middleware=middleware,
        route_handlers=[*API_ROUTES, *PAGE_ROUTES,
                        create_static_files_router(path="/static", directories=[WEB / "static"])],
        lifespan=[lifespan],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(env)),
        exception_handlers={Exception: _handle},
        before_request=_before_request,
        before_send=[_headers],
        openapi_config=OpenAPIConfig(title="SoVei kunnskapsbank – søk", version="0.1.0",
                                     path="/schema", render_plugins=[JsonRenderPlugin()]),
        debug=False,
    )


def app_factory() -> Litestar:
    return create_app()
