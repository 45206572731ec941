"""`/openapi.json` against the code: every route is documented and nothing else is, the
document is valid OpenAPI 3.1, it is served open, and the fields the handlers read and write
are the documented ones. A route or a field added without the document fails here."""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import json
import sys
import types
import typing
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import jsonschema
import pytest
import schemathesis
from aiohttp import web
from openapi_spec_validator import validate
from schemathesis.core.result import Ok

from bot.app import create_app
from bot.settings import Settings
from bot.web import auth, openapi, sessions, webhook
from bot.web.errors import json_error
from handoff.machine import Outcome, Reason
from handoff.manager import Action, ActionResult, MessageResult
from handoff.model import Event, Line, Mode, Session
from tests.conftest import Running

TOKEN = "s3cret"


def _full_app() -> web.Application:
    """Every optional part mounted (Slack is the only route that depends on settings)."""
    return create_app(Settings(_env_file=None, slack_bot_token="xoxb-test",
                               slack_signing_secret="signing-secret"))


def _routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every route, read from aiohttp's router. HEAD is implied by
    GET (aiohttp adds it); it must never appear on its own."""
    found = {(route.method, route.resource.canonical) for route in app.router.routes()
             if route.resource is not None}
    heads = {path for method, path in found if method == "HEAD"}
    assert heads <= {path for method, path in found if method == "GET"}
    return {(method, path) for method, path in found if method != "HEAD"}


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _validator(doc: dict[str, Any], name: str) -> Callable[[Any], None]:
    schema = {**doc["components"]["schemas"][name], "components": doc["components"]}
    resolver_doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}

    def check(value: Any) -> None:
        jsonschema.validate(value, resolver_doc)
    return check


# -- routes -------------------------------------------------------------------------------------

def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    routes = _routes(_full_app())
    documented = _documented(openapi.SPEC)
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented routes the app does not have"


def test_the_served_document_is_what_this_app_mounts() -> None:
    plain = create_app(Settings(_env_file=None))
    assert _documented(openapi.document(plain)) == _routes(plain)
    assert ("POST", "/slack/events") not in _routes(plain)
    full = _full_app()
    assert openapi.document(full) == openapi.SPEC


def test_the_bearer_is_documented_exactly_where_the_middleware_asks_for_it() -> None:
    for (method, path), op in openapi.OPERATIONS.items():
        behind_bearer = not (path in auth.OPEN_PATHS or path.startswith(auth.OPEN_PREFIXES))
        # The webhook's POST checks the bearer itself, for the simple JSON (Meta's is signed).
        expected = behind_bearer or (method, path) == ("POST", "/webhook/whatsapp")
        assert ({openapi.BEARER: []} in op.get("security", [])) is expected, (method, path)
        if expected:
            assert "401" in op["responses"], (method, path)


# -- validity -----------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1() -> None:
    assert openapi.SPEC["openapi"].startswith("3.1.")
    validate(openapi.SPEC)
    validate(openapi.document(create_app(Settings(_env_file=None))))
    schema = schemathesis.openapi.from_dict(openapi.SPEC)
    loaded = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in loaded), loaded
    assert len(loaded) == len(openapi.OPERATIONS)


def test_every_response_has_a_schema_or_a_described_body() -> None:
    for (method, path), op in openapi.OPERATIONS.items():
        assert op["responses"], (method, path)
        for code, response in op["responses"].items():
            assert code.isdigit() and response["description"], (method, path, code)
            # Every error is `{"error": "…"}` (or its action variant); /healthz's 503 is its
            # own body (`{"status": "unavailable", "store", "error"}`), for load balancers.
            if int(code) >= 400 and (method, path) != ("GET", "/healthz"):
                schema = _resolve(openapi.SPEC, response["content"]["application/json"]["schema"])
                assert "error" in schema["required"], (method, path, code)


async def test_openapi_json_is_open_even_with_a_token(
        serve: Callable[..., Awaitable[Running]],
        make_settings: Callable[..., Settings]) -> None:
    running = await serve(make_settings(handoff_api_token=TOKEN))
    async with running.request("GET", "/openapi.json") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        served = await resp.json()
    assert served == openapi.document(running.app)
    validate(served)
    async with running.request("GET", "/sessions/active") as resp:
        assert resp.status == 401  # the token is on: only the open routes answer without it


# -- fields -------------------------------------------------------------------------------------

def _sample(tp: Any) -> Any:
    """A value of type `tp`, so that every optional field shows up in `to_json`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _sample(next(arg for arg in typing.get_args(tp) if arg is not type(None)))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return next(iter(tp))
    base = origin or tp
    samples: dict[Any, Any] = {str: "x", int: 1, float: 1_700_000_000.0, bool: True,
                               dict: {"k": "v"}, list: ["x"]}
    return samples[base]


def _full(cls: type) -> Any:
    """An instance of the dataclass `cls` with every field set, optional ones included."""
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return cls(**{f.name: _sample(hints[f.name]) for f in dataclasses.fields(cls) if f.init})


@pytest.mark.parametrize(("cls", "schema", "minimal"), [
    (Session, "Session", Session("5531999999999")),
    (Event, "Event", Event(1.0, "takeover", None, "rest")),
    (Line, "Line", Line(1, 1.0, "customer", "oi")),
])
def test_model_fields_are_the_documented_ones(cls: type, schema: str, minimal: Any) -> None:
    documented = openapi.SCHEMAS[schema]
    full = _full(cls).to_json()
    assert set(full) == set(documented["properties"]), f"{schema}: fields differ from the code"
    assert set(documented["required"]) == set(minimal.to_json()), f"{schema}: required"
    _validator(openapi.SPEC, schema)(minimal.to_json())


@pytest.mark.parametrize("media", [
    {"kind": "image", "mime_type": "image/jpeg", "filename": "foto.jpg", "caption": "Olha"},
    {"files": [{"name": "nota.pdf", "mimetype": "application/pdf"}], "text": "Segue"},
])
def test_a_line_with_a_file_is_the_documented_one(media: dict[str, Any]) -> None:
    _validator(openapi.SPEC, "Line")(Line(3, 1.0, "human", "Segue", "ana", media).to_json())


def test_the_webhook_answer_is_the_documented_one() -> None:
    check = _validator(openapi.SPEC, "WebhookAnswer")
    for session in (Session("5531999999999", Mode.PAUSED), None):
        body = webhook.answer(MessageResult(False, None, Reason.WAITING_HUMAN, session,
                                            {"escalation_requested": True}))
        assert set(body) == set(openapi.SCHEMAS["WebhookAnswer"]["properties"])
        check(body)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_action_answers_are_the_documented_ones(outcome: Outcome) -> None:
    for action in (Action.TAKEOVER, Action.RELEASE, Action.TRANSFER):
        session = Session("5531999999999", Mode.HUMAN, "ana@empresa.com")
        try:
            response = sessions._action_answer(ActionResult(action, outcome, "5531999999999",
                                                            "bia@empresa.com", session))
        except KeyError:
            continue  # an (action, outcome) pair that cannot happen has no wording
        assert response.text is not None
        body = json.loads(response.text)
        name = "ActionResult" if response.status == 200 else "ActionRefused"
        assert set(body) == set(openapi.SCHEMAS[name]["properties"]), (action, outcome)
        _validator(openapi.SPEC, name)(body)


def test_errors_are_the_documented_shape() -> None:
    response = json_error(400, "Campo obrigatório ausente: phone.")
    assert response.text is not None
    _validator(openapi.SPEC, "Error")(json.loads(response.text))


# -- what the handlers read ---------------------------------------------------------------------

def _function(module: types.ModuleType, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise LookupError(name)


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _reads(module: types.ModuleType, name: str,
           seen: set[str] | None = None) -> Iterator[tuple[str, str]]:
    """(location, name) of every input the handler `name` reads, following the module's own
    helpers it calls: `field(body, "x")` and `_text_field(body, "x", "y")` read the JSON body,
    `data.get("x")`/`body.get("x")` the JSON body too, `….query.get("x")`, `q.get("x")` and
    `_count(request, "x")` the query string, and
    `match_info["x"]` the path."""
    seen = seen if seen is not None else set()
    if name in seen:
        return
    seen.add(name)
    for node in ast.walk(_function(module, name)):
        if isinstance(node, ast.Call):
            func = node.func
            args = [_literal(arg) for arg in node.args]
            if isinstance(func, ast.Name):
                if func.id == "field" and len(args) > 1 and args[1]:
                    yield "body", args[1]
                elif func.id == "_text_field":
                    yield from (("body", arg) for arg in args[1:] if arg)
                elif func.id == "_count" and len(args) > 1 and args[1]:
                    yield "query", args[1]
                elif callable(getattr(module, func.id, None)) and inspect.isfunction(
                        getattr(module, func.id)) and getattr(module, func.id).__module__ == \
                        module.__name__:
                    yield from _reads(module, func.id, seen)
            elif (isinstance(func, ast.Attribute) and func.attr == "get" and args and args[0]
                  and ((isinstance(func.value, ast.Attribute) and func.value.attr == "query")
                       or (isinstance(func.value, ast.Name) and func.value.id == "q"))):
                yield "query", args[0]
            elif (isinstance(func, ast.Attribute) and func.attr == "get" and args and args[0]
                  and isinstance(func.value, ast.Name) and func.value.id in ("data", "body")):
                yield "body", args[0]
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
              and node.value.attr == "match_info"):
            key = _literal(node.slice)
            if key:
                yield "path", key


def _body_properties(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = _resolve(doc, schema)
    names = set(schema.get("properties", {}))
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        names |= _body_properties(doc, branch)
    return names


def test_every_input_a_handler_reads_is_documented() -> None:
    app = _full_app()
    checked = 0
    for route in app.router.routes():
        handler = route.handler
        if route.method == "HEAD" or not inspect.isfunction(handler):
            continue  # HEAD mirrors GET; Slack's endpoint is a bound method (Slack's formats)
        assert route.resource is not None
        op = openapi.SPEC["paths"][route.resource.canonical][route.method.lower()]
        documented = {(p["in"], p["name"]) for p in op.get("parameters", [])}
        for content in op.get("requestBody", {}).get("content", {}).values():
            documented |= {("body", name) for name in _body_properties(openapi.SPEC,
                                                                       content["schema"])}
        module = sys.modules[handler.__module__]
        read = set(_reads(module, handler.__name__))
        assert read <= documented, (route.method, route.resource.canonical,
                                    sorted(read - documented))
        checked += len(read)
    assert checked >= 20  # the walk found the inputs (phone, attendant_id, limit, hub.*, …)
