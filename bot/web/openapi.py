"""`GET /openapi.json`: the OpenAPI 3.1 document of every HTTP route the app serves.

`SPEC` describes every route the app can mount; `document(app)` is the part of it that this
app serves (`/slack/events` exists only when Slack is configured), so what a client imports
always matches the server it came from. `tests/bot/test_openapi.py` compares it with the
router and with the handlers' fields, and Schemathesis checks the live app against it.

Enumerations come from the code (modes, senders, reasons, sources), so they cannot drift.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from bot.web.sessions import MAX_PAGE
from handoff.events import Happening
from handoff.machine import Reason, Sender
from handoff.model import NOTE, TEMPLATE, Mode, Source

routes = web.RouteTableDef()

JSON = "application/json"
BEARER = "bearerAuth"
META_SIGNATURE = "metaSignature"
SLACK_SIGNATURE = "slackSignature"

#: UTC ISO 8601 without an offset (`2026-11-25T10:00:00.123456`), as `handoff.model.iso`.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> Schema:
    return _json(description, _ref("Error"))


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


PHONE_VALUE: Schema = {"type": ["string", "integer"]}
TIMESTAMP: Schema = {"type": "string", "pattern": TIMESTAMP_PATTERN,
                     "description": "UTC, ISO 8601 without an offset."}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "description": "Every error: a pt-BR message saying what was wrong.",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
        "additionalProperties": False,
    },
    "Health": {
        "type": "object",
        "required": ["status", "store"],
        "properties": {"status": {"type": "string", "enum": ["ok", "unavailable"]},
                       "store": {"type": "string", "enum": ["memory", "redis"]},
                       "error": {"type": "string",
                                 "description": "Why, in pt-BR, when unavailable."}},
        "additionalProperties": False,
    },
    "Session": {
        "type": "object",
        "description": "A conversation's state, keyed by the phone's digits.",
        "required": ["phone", "mode", "human_attendant", "created_at", "updated_at",
                     "paused_at", "taken_at", "last_customer_message", "last_customer_text",
                     "last_human_message", "metadata"],
        "properties": {
            "phone": {"type": "string", "examples": ["5531999999999"]},
            "mode": {"type": "string", "enum": _values(Mode)},
            "human_attendant": {"type": ["string", "null"]},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "paused_at": _nullable(TIMESTAMP),
            "taken_at": _nullable(TIMESTAMP),
            "last_customer_message": _nullable(TIMESTAMP),
            "last_customer_text": {"type": ["string", "null"]},
            "last_human_message": _nullable(TIMESTAMP),
            "metadata": {"type": "object"},
        },
        "additionalProperties": False,
    },
    "SessionList": {
        "type": "object",
        "required": ["sessions"],
        "properties": {"sessions": {"type": "array", "items": _ref("Session")}},
        "additionalProperties": False,
    },
    "Queue": {
        "type": "object",
        "description": "Routing now: who waits (place 1 waited longest), what is on offer to "
                       "whom, each attendant's load, and whether the team is open.",
        "required": ["assignment", "open", "opens_at", "max_conversations", "waiting",
                     "offers", "attendants"],
        "properties": {
            "assignment": {"type": "string", "enum": ["channel", "offer"]},
            "open": {"type": "boolean"},
            "opens_at": {"type": ["string", "null"], "format": "date-time",
                         "description": "When the team opens next, while it is closed."},
            "max_conversations": {"type": ["integer", "null"], "minimum": 1,
                                  "description": "The limit per attendant, with offers on."},
            "waiting": {"type": "array", "items": {
                "type": "object",
                "required": ["phone", "name", "place", "waiting_since", "offer"],
                "properties": {
                    "phone": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "place": {"type": "integer", "minimum": 1},
                    "waiting_since": {"type": ["string", "null"], "format": "date-time"},
                    "offer": {"oneOf": [{"type": "null"}, {
                        "type": "object",
                        "required": ["attendant", "offered_at", "expires_at", "reason"],
                        "properties": {
                            "attendant": {"type": "string"},
                            "offered_at": {"type": "string", "format": "date-time"},
                            "expires_at": {"type": "string", "format": "date-time"},
                            "reason": {"type": "string", "enum": ["waiting", "silent"]}},
                        "additionalProperties": False}]}},
                "additionalProperties": False}},
            "offers": {"type": "array", "description": "Every open offer, oldest first: a "
                       "waiting customer's, or a silent holder's conversation (`holder`).",
                       "items": {
                "type": "object",
                "required": ["phone", "attendant", "offered_at", "expires_at", "reason",
                             "holder"],
                "properties": {
                    "phone": {"type": "string"},
                    "attendant": {"type": "string"},
                    "offered_at": {"type": "string", "format": "date-time"},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "reason": {"type": "string", "enum": ["waiting", "silent"]},
                    "holder": {"type": ["string", "null"]}},
                "additionalProperties": False}},
            "attendants": {"type": "array", "items": {
                "type": "object",
                "required": ["attendant", "holding", "offered", "present"],
                "properties": {
                    "attendant": {"type": "string"},
                    "holding": {"type": "integer", "minimum": 0},
                    "offered": {"type": "integer", "minimum": 0},
                    "present": {"type": ["boolean", "null"],
                                "description": "In Slack now (null: not known here)."}},
                "additionalProperties": False}},
        },
        "additionalProperties": False,
    },
    "ActionResult": {
        "type": "object",
        "description": "What a takeover, release or transfer did; `message` in pt-BR.",
        "required": ["success", "message", "session"],
        "properties": {"success": {"const": True}, "message": {"type": "string"},
                       "session": _nullable(_ref("Session"))},
        "additionalProperties": False,
    },
    "ActionRefused": {
        "type": "object",
        "description": "A refused action: `error` repeats `message` (which names the holder "
                       "on a conflict); `session` is the conversation as it stands.",
        "required": ["success", "message", "session", "error"],
        "properties": {"success": {"const": False}, "message": {"type": "string"},
                       "session": _nullable(_ref("Session")), "error": {"type": "string"}},
        "additionalProperties": False,
    },
    "Event": {
        "type": "object",
        "description": "One history line. `event` is one of: "
                       + ", ".join(_values(Happening)) + ".",
        "required": ["at", "event", "actor", "source"],
        "properties": {
            "at": TIMESTAMP,
            "event": {"type": "string"},
            "actor": {"type": ["string", "null"]},
            "source": {"type": "string", "description": "One of: "
                       + ", ".join(_values(Source)) + "."},
            "from_mode": {"type": "string", "enum": _values(Mode)},
            "to_mode": {"type": "string", "enum": _values(Mode)},
            "to": {"type": "string", "description": "A transfer's new holder."},
            "text": {"type": "string", "description": "What an internal note says."},
        },
        "additionalProperties": False,
    },
    "History": {
        "type": "object",
        "required": ["phone", "events"],
        "properties": {"phone": {"type": "string"},
                       "events": {"type": "array", "items": _ref("Event")}},
        "additionalProperties": False,
    },
    "Line": {
        "type": "object",
        "description": "One transcript message; `id` numbers the session's lines from 1.",
        "required": ["id", "at", "sender", "attendant", "text", "media", "status"],
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "at": TIMESTAMP,
            "sender": {"type": "string", "description": "One of: "
                       + ", ".join([*_values(Sender), NOTE, TEMPLATE]) + "."},
            "attendant": {"type": ["string", "null"]},
            "text": {"type": "string"},
            "media": _nullable(_ref("Media")),
            "status": {"type": ["string", "null"],
                       "description": "Delivery status of an outgoing message, when known."},
        },
        "additionalProperties": False,
    },
    "Media": {
        "type": "object",
        "description": "The file that came with a message.",
        "required": ["type", "mime_type", "filename", "caption"],
        "properties": {
            "type": {"type": ["string", "null"], "examples": ["image", "audio", "video",
                                                               "document"]},
            "mime_type": {"type": ["string", "null"]},
            "filename": {"type": ["string", "null"]},
            "caption": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    },
    "Transcript": {
        "type": "object",
        "required": ["phone", "messages", "next_before"],
        "properties": {
            "phone": {"type": "string"},
            "messages": {"type": "array", "items": _ref("Line")},
            "next_before": {"type": ["integer", "null"], "minimum": 1,
                            "description": "`before` for the previous page; null on the "
                                           "first."},
        },
        "additionalProperties": False,
    },
    "SimpleMessage": {
        "type": "object",
        "title": "Simple JSON (n8n, relays)",
        "description": "One WhatsApp message, as a relay or n8n reports it. Needs the bearer "
                       "token when HANDOFF_API_TOKEN is set. `from` and `text` are aliases of "
                       "`phone` and `message`, read only when those are absent or null; null "
                       "is the same as absent; `message` may be left out when `media` is "
                       "given; unknown fields are ignored.",
        "allOf": [
            {"anyOf": [{"required": ["phone"], "properties": {"phone": PHONE_VALUE}},
                       {"required": ["from"], "properties": {"from": PHONE_VALUE}}]},
            {"anyOf": [{"required": ["message"], "properties": {"message": {"type": "string"}}},
                       {"required": ["text"], "properties": {"text": {"type": "string"}}},
                       {"required": ["media"], "properties": {"media": _ref("MediaIn")}}]},
        ],
        "properties": {
            "phone": {"type": ["string", "integer", "null"], "examples": ["5531999999999"],
                      "description": "The customer's phone: 8 to 15 digits, any punctuation."},
            "from": {"description": "Alias of `phone` (string or integer)."},
            "message": {"type": ["string", "null"],
                        "examples": ["Quero falar com um atendente"]},
            "text": {"description": "Alias of `message` (string)."},
            "sender_type": {"type": ["string", "null"], "enum": [*_values(Sender), None],
                            "default": Sender.CUSTOMER.value,
                            "description": "`customer`, `human` (an attendant wrote) or "
                                           "`agent` (the bot's own outgoing message)."},
            "message_id": {"type": ["string", "integer", "null"],
                           "description": "A repeat is answered `duplicate`, changing nothing."},
            "attendant_id": {"type": ["string", "null"],
                             "description": "Who wrote a `human` message (default "
                                            "`whatsapp`, the business phone)."},
            "metadata": {"type": ["object", "null"],
                         "description": "Merged into the session's metadata."},
            "media": _nullable(_ref("MediaIn")),
        },
    },
    "MediaIn": {
        "type": "object",
        "description": "A file the relay can serve, shown to attendants as the file itself; "
                       "without `message`, a label and the caption or file name stand for it.",
        "required": ["url", "mime_type"],
        "properties": {
            "url": {"type": "string", "pattern": "^https?://", "maxLength": 2048},
            "mime_type": {"type": "string", "minLength": 1, "examples": ["image/jpeg"]},
            "filename": {"type": ["string", "null"]},
            "caption": {"type": ["string", "null"]},
        },
    },
    "MetaPayload": {
        "type": "object",
        "title": "WhatsApp Cloud API (Meta)",
        "description": "Meta's webhook payload, as Meta documents it; not re-specified here. "
                       "Signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body keyed by "
                       "WHATSAPP_APP_SECRET), checked before anything is parsed.",
        "required": ["object"],
        "properties": {"object": {"const": "whatsapp_business_account"},
                       "entry": {"type": "array"}},
    },
    "WebhookAnswer": {
        "type": "object",
        "title": "Answer to the simple JSON",
        "required": ["should_respond", "response", "reason", "session_mode", "metadata"],
        "properties": {
            "should_respond": {"type": "boolean"},
            "response": {"type": ["string", "null"]},
            "reason": {"type": "string", "enum": _values(Reason)},
            "session_mode": {"type": ["string", "null"], "enum": [*_values(Mode), None]},
            "metadata": {"type": "object"},
        },
        "additionalProperties": False,
    },
    "MetaAck": {
        "type": "object",
        "title": "Answer to Meta",
        "description": "The payload's messages and statuses are durably queued.",
        "required": ["status", "queued"],
        "properties": {"status": {"const": "ok"},
                       "queued": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    },
}

SECURITY_SCHEMES: dict[str, Schema] = {
    BEARER: {
        "type": "http", "scheme": "bearer",
        "description": "`Authorization: Bearer <HANDOFF_API_TOKEN>`. Without HANDOFF_API_TOKEN "
                       "the API is open (the server then refuses to listen beyond loopback).",
    },
    META_SIGNATURE: {
        "type": "apiKey", "in": "header", "name": "X-Hub-Signature-256",
        "description": "Meta's `sha256=<HMAC-SHA256 of the raw body keyed by "
                       "WHATSAPP_APP_SECRET>`.",
    },
    SLACK_SIGNATURE: {
        "type": "apiKey", "in": "header", "name": "X-Slack-Signature",
        "description": "Slack's `v0=` HMAC of `v0:{X-Slack-Request-Timestamp}:{raw body}` keyed "
                       "by SLACK_SIGNING_SECRET, at most five minutes old.",
    },
}

PHONE: Schema = {
    "name": "phone", "in": "path", "required": True,
    "description": "The customer's phone (`5531999999999`; `+55 (31) 99999-9999` and the form "
                   "without the ninth digit are the same session) or a business-scoped user "
                   "id. Fewer than 8 or more than 15 digits is a 400.",
    "schema": {"type": "string", "minLength": 1, "examples": ["5531999999999"]},
}
SOURCE: Schema = {
    "name": "source", "in": "query", "required": False,
    "description": "Where the change comes from, for the history (the CLI sends `cli`); "
                   "empty is `rest`.",
    "allowEmptyValue": True,
    "schema": {"type": "string", "enum": [Source.REST.value, Source.CLI.value],
               "default": Source.REST.value},
}

UNAUTHORIZED = _error("Missing or wrong bearer token.")
TOO_LARGE = _error("Body over 1 MiB.")
STORE_DOWN = _error("The store is unreachable; retry (nothing was lost).")
BAD_PHONE = _error("Invalid phone, or a bad parameter or body.")
NOT_FOUND = _error("Unknown phone.")
PROTECTED: list[dict[str, list[str]]] = [{BEARER: []}]


def _action(summary: str, description: str, *, request: Schema, params: list[Schema],
            codes: dict[str, str]) -> Schema:
    """takeover, release and transfer: the same answers, by outcome."""
    responses: dict[str, Schema] = {
        "200": _json("Done, or nothing to do.", _ref("ActionResult")),
        "400": BAD_PHONE,
        "401": UNAUTHORIZED,
    }
    for code, why in codes.items():
        responses[code] = _json(why, _ref("ActionRefused"))
    responses |= {"413": TOO_LARGE, "503": STORE_DOWN}
    return {"summary": summary, "description": description, "tags": ["sessions"],
            "security": PROTECTED, "parameters": [PHONE, *params, SOURCE],
            "requestBody": request, "responses": dict(sorted(responses.items()))}


ATTENDANT_QUERY: Schema = {"name": "attendant_id", "in": "query", "required": False,
                           "description": "Who acts (or the JSON body's `attendant_id`).",
                           "schema": {"type": "string"}}
FORCE_QUERY: Schema = {"name": "force", "in": "query", "required": False,
                       "description": "`true` (or `1`, `yes`): override the holder.",
                       "schema": {"type": "string", "examples": ["true"]}}
ACTION_BODY: Schema = {
    "required": False,
    "description": "Optional. The query's `attendant_id` wins over the body's; `force` is on "
                   "when either says so.",
    "content": {JSON: {"schema": {
        "type": "object",
        "properties": {"attendant_id": {"type": ["string", "null"]},
                       "force": {"type": ["boolean", "null"]}},
    }}},
}

#: Every operation, by (method, path template) as aiohttp routes them.
OPERATIONS: dict[tuple[str, str], Schema] = {
    ("GET", "/healthz"): {
        "summary": "Health", "tags": ["operations"],
        "description": "Always open; 503 when the store is unreachable.",
        "responses": {"200": _json("Up.", _ref("Health")),
                      "503": _json("The store is unreachable.", _ref("Health"))},
    },
    ("GET", "/metrics"): {
        "summary": "Prometheus metrics", "tags": ["operations"], "security": PROTECTED,
        "responses": {
            "200": {"description": "Prometheus text exposition format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": UNAUTHORIZED, "503": STORE_DOWN,
        },
    },
    ("GET", "/openapi.json"): {
        "summary": "This document", "tags": ["operations"],
        "description": "Always open. Describes the routes this server has mounted.",
        "responses": {"200": _json("OpenAPI 3.1.", {"type": "object"})},
    },
    ("GET", "/webhook/whatsapp"): {
        "summary": "Meta's webhook verification", "tags": ["webhook"],
        "description": "Echoes `hub.challenge` when `hub.mode` is `subscribe` and "
                       "`hub.verify_token` matches WHATSAPP_VERIFY_TOKEN.",
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in ("hub.mode", "hub.verify_token", "hub.challenge")],
        "responses": {
            "200": {"description": "The challenge, echoed.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}},
            "403": _error("Wrong or missing verify token."),
        },
    },
    ("POST", "/webhook/whatsapp"): {
        "summary": "A WhatsApp message: simple JSON, or Meta's signed Cloud API payload",
        "tags": ["webhook"],
        "description": "Two formats on one URL. The simple JSON (n8n, relays) needs the bearer "
                       "token. Meta's Cloud API payload (`\"object\": "
                       "\"whatsapp_business_account\"`) is signed with X-Hub-Signature-256 "
                       "instead and is answered once durably queued. A body sent without the "
                       "bearer that is not Meta's is a 401.",
        "security": [{BEARER: []}, {META_SIGNATURE: []}],
        "requestBody": {"required": True, "content": {JSON: {"schema": {
            "oneOf": [_ref("SimpleMessage"), _ref("MetaPayload")]}}}},
        "responses": {
            "200": _json("The simple JSON's answer, or Meta's acknowledgement.",
                         {"oneOf": [_ref("WebhookAnswer"), _ref("MetaAck")]}),
            "400": _error("Bad JSON, a missing field, a wrong type or an invalid phone."),
            "401": _error("Missing or wrong bearer token (simple JSON), or a missing or bad "
                          "X-Hub-Signature-256 (Meta's)."),
            "413": TOO_LARGE, "503": STORE_DOWN,
        },
    },
    ("POST", "/slack/events"): {
        "summary": "Slack: slash commands, interactivity and events", "tags": ["slack"],
        "description": "One Request URL for Slack's own formats (slash command forms, "
                       "`payload=` interactivity forms, Events API JSON), as Slack documents "
                       "them; not re-specified here. Signed by Slack. Mounted only when "
                       "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set.",
        "security": [{SLACK_SIGNATURE: []}],
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            JSON: {"schema": {"type": "object"}}}},
        "responses": {
            "200": {"description": "Slack's answer (possibly empty), as Bolt gives it."},
            "400": _error("Not a body Slack sends."),
            "401": _error("Missing, wrong or stale Slack signature."),
            "503": STORE_DOWN,
        },
    },
    ("GET", "/sessions/active"): {
        "summary": "Active conversations", "tags": ["sessions"], "security": PROTECTED,
        "description": "Every `human` and `paused` session, and `agent` sessions whose customer "
                       "wrote in the last 24 hours: waiting first (longest wait on top), then "
                       "held, then the bot's.",
        "parameters": [{"name": "mode", "in": "query", "required": False,
                        "description": "Only sessions in this mode; empty: all.",
                        "allowEmptyValue": True,
                        "schema": {"type": "string", "enum": _values(Mode)}}],
        "responses": {"200": _json("The sessions.", _ref("SessionList")),
                      "400": _error("Unknown mode."), "401": UNAUTHORIZED,
                      "503": STORE_DOWN},
    },
    ("GET", "/queue"): {
        "summary": "The queue, offers and loads", "tags": ["sessions"],
        "security": PROTECTED,
        "description": "Waiting customers with their place (oldest first), what each is on "
                       "offer to (`HANDOFF_ASSIGNMENT=offer`), each attendant's load "
                       "(held plus offered) and presence, and business hours.",
        "responses": {"200": _json("The queue.", _ref("Queue")), "401": UNAUTHORIZED,
                      "503": STORE_DOWN},
    },
    ("GET", "/session/{phone}/status"): {
        "summary": "One conversation", "tags": ["sessions"], "security": PROTECTED,
        "parameters": [PHONE],
        "responses": {"200": _json("The session.", _ref("Session")), "400": BAD_PHONE,
                      "401": UNAUTHORIZED, "404": NOT_FOUND, "503": STORE_DOWN},
    },
    ("POST", "/session/{phone}/takeover"): _action(
        "An attendant takes the conversation",
        "`agent` or `paused` becomes `human`. A phone never seen gets a session. Held by "
        "someone else: 409 naming the holder, unless `force`.",
        request=ACTION_BODY, params=[ATTENDANT_QUERY, FORCE_QUERY],
        codes={"409": "Held by someone else."}),
    ("POST", "/session/{phone}/release"): _action(
        "Back to the bot",
        "`human` or `paused` becomes `agent`. By someone other than the holder: 403 unless a "
        "supervisor or `force`.",
        request=ACTION_BODY, params=[ATTENDANT_QUERY, FORCE_QUERY],
        codes={"403": "Someone else holds it.", "404": "Unknown phone."}),
    ("POST", "/session/{phone}/transfer"): _action(
        "The holder passes the conversation",
        "To `to`; when `from` is given it must be the holder at that moment.",
        request={"required": True, "content": {JSON: {"schema": {
            "type": "object", "required": ["to"],
            "properties": {"to": {"type": "string", "minLength": 1},
                           "from": {"type": ["string", "null"]}}}}}},
        params=[],
        codes={"404": "Unknown phone.",
               "409": "Nobody holds it, `from` is not the holder (named), or `to` already "
                      "holds it."}),
    ("GET", "/session/{phone}/history"): {
        "summary": "What happened, oldest first", "tags": ["sessions"], "security": PROTECTED,
        "parameters": [PHONE],
        "responses": {"200": _json("The history.", _ref("History")), "400": BAD_PHONE,
                      "401": UNAUTHORIZED, "404": NOT_FOUND, "503": STORE_DOWN},
    },
    ("GET", "/session/{phone}/messages"): {
        "summary": "The conversation's messages, oldest first", "tags": ["sessions"],
        "security": PROTECTED,
        "parameters": [
            PHONE,
            {"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
             "description": f"Lines per page (default 50, also when empty; more than "
                            f"{MAX_PAGE} is read as {MAX_PAGE}).",
             "schema": {"type": "integer", "minimum": 1, "default": 50}},
            {"name": "before", "in": "query", "required": False, "allowEmptyValue": True,
             "description": "Lines before this `id` (a previous answer's `next_before`); "
                            "empty: the latest.",
             "schema": {"type": "integer", "minimum": 1}},
        ],
        "responses": {"200": _json("One page.", _ref("Transcript")), "400": BAD_PHONE,
                      "401": UNAUTHORIZED, "404": NOT_FOUND, "503": STORE_DOWN},
    },
    ("GET", "/media/{token}"): {
        "summary": "A file an attendant sent, for the relay to fetch", "tags": ["relay"],
        "description": "The link comes in the relay's `attachments`; its token names the file "
                       "and its expiry, signed with HMAC-SHA256 (HANDOFF_OUTBOUND_SECRET, else "
                       "SLACK_SIGNING_SECRET), so it is its own credential. The file is "
                       "streamed from Slack. Mounted only when Slack is configured.",
        "parameters": [{"name": "token", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1}}],
        "responses": {
            "200": {"description": "The file, with its own content type.",
                    "headers": {"Content-Disposition": {
                        "description": "`attachment; filename*=UTF-8''<name>`",
                        "schema": {"type": "string"}}},
                    "content": {"*/*": {"schema": {"type": "string",
                                                   "contentMediaType":
                                                       "application/octet-stream"}}}},
            "404": _error("Altered, unknown or expired link."),
            "502": _error("Slack could not give the file just now; try again."),
        },
    },
    ("GET", "/dashboard"): {
        "summary": "The attendants' web page", "tags": ["dashboard"],
        "description": "Always open: the page asks for the token and sends it on its calls.",
        "parameters": [{"name": "attendant", "in": "query", "required": False,
                        "description": "Who is acting (kept in the browser).",
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The page.",
                              "content": {"text/html": {"schema": {"type": "string"}}}}},
    },
    ("GET", "/static/{name}"): {
        "summary": "The dashboard's script and style sheet", "tags": ["dashboard"],
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1,
                                   "examples": ["dashboard.js", "dashboard.css"]}}],
        "responses": {
            "200": {"description": "The file.",
                    "content": {"text/javascript": {"schema": {"type": "string"}},
                                "text/css": {"schema": {"type": "string"}}}},
            "404": _error("Not one of the dashboard's files."),
        },
    },
}


def _paths(operations: dict[tuple[str, str], Schema]) -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for (method, path), operation in operations.items():
        paths.setdefault(path, {})[method.lower()] = operation
    return paths


SPEC: Schema = {
    "openapi": "3.1.0",
    "info": {
        "title": "handoff",
        "version": "0.1.0",
        "description": "Hands WhatsApp conversations between a bot and human attendants in "
                       "Slack. Errors are JSON `{\"error\": \"…\"}` in Portuguese. Every GET "
                       "also answers HEAD.",
    },
    "tags": [{"name": name} for name in
             ("webhook", "sessions", "operations", "dashboard", "slack", "relay")],
    "paths": _paths(OPERATIONS),
    "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
}


def mounted(app: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every route on `app`; HEAD is implied by GET."""
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.method != "HEAD" and route.resource is not None}


def document(app: web.Application) -> Schema:
    """`SPEC` reduced to the operations `app` serves."""
    present = mounted(app)
    doc = copy.deepcopy(SPEC)
    doc["paths"] = _paths({key: op for key, op in copy.deepcopy(OPERATIONS).items()
                           if key in present})
    return doc


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))
