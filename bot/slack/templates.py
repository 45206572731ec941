"""The "Enviar modelo" modal: an attendant picks one of the account's approved templates for
a customer and fills its variables; the choice goes to the outbox, and the customer sender
sends it (in order with the conversation's other messages).

The modal opens from the card's button, from the hint a reply after the window closed gets,
and from `/modelo <telefone>`. Slack's trigger lives 3 seconds, so the modal is built from the
templates already known (listed at start and kept for minutes), asking Meta only when none are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from bot.slack import texts
from bot.slack.cards import TEMPLATE_OPEN
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from bot.whatsapp.templates import Template, Templates
from handoff.events import TemplateRequested
from handoff.manager import SessionManager
from handoff.phones import InvalidPhone, canonical_phone

log = logging.getLogger("handoff.slack")

CALLBACK = "handoff_modelo"
OPEN = TEMPLATE_OPEN
_PICK, _VARS = "modelo", "variaveis"
#: Slack's limit on an option's text.
_OPTION_TEXT = 75


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def modal(phone: str, templates: list[Template]) -> dict[str, Any]:
    options = [{"text": _plain(f"{t.name} ({t.language})"[:_OPTION_TEXT]),
                "description": _plain((t.body or "—")[:_OPTION_TEXT]), "value": t.key}
               for t in templates[:100]]
    return {
        "type": "modal", "callback_id": CALLBACK,
        "private_metadata": json.dumps({"phone": phone}),
        "title": _plain(texts.SLACK_TEMPLATE_TITLE), "submit": _plain(texts.SLACK_TEMPLATE_SUBMIT),
        "close": _plain(texts.SLACK_TEMPLATE_CLOSE),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text":
                                         texts.SLACK_TEMPLATE_INTRO.format(phone=phone)}},
            {"type": "input", "block_id": _PICK, "label": _plain(texts.SLACK_TEMPLATE_PICK),
             "element": {"type": "static_select", "action_id": _PICK, "options": options}},
            {"type": "input", "block_id": _VARS, "optional": True,
             "label": _plain(texts.SLACK_TEMPLATE_VARIABLES),
             "element": {"type": "plain_text_input", "action_id": _VARS, "multiline": True}},
        ]}


class TemplatePicker:
    """Opens the modal and takes its submission."""

    def __init__(self, manager: SessionManager, api: SlackApi, identities: Identities,
                 templates: Templates | None) -> None:
        self.manager = manager
        self.api = api
        self.identities = identities
        self.templates = templates

    async def warm(self) -> None:
        """List the templates once at start, so the first modal opens at once."""
        if self.templates is not None:
            try:
                await self.templates.list()
            except Exception as exc:
                log.warning("whatsapp_templates_unavailable", extra={"error": repr(exc)})

    async def open(self, trigger_id: str, phone_text: str) -> str | None:
        """The modal for `phone`; what to tell the user instead when it cannot open."""
        if self.templates is None:
            return texts.SLACK_TEMPLATE_OFF
        try:
            phone = canonical_phone(phone_text)
        except InvalidPhone:
            return texts.SLACK_TEMPLATE_USAGE
        known = self.templates.cached()
        if known is None:
            try:
                async with asyncio.timeout(1.5):  # the trigger lives 3 s
                    known = await self.templates.list()
            except Exception as exc:
                log.warning("whatsapp_templates_unavailable", extra={"error": repr(exc)})
                return texts.SLACK_TEMPLATE_UNAVAILABLE
        if not known:
            return texts.SLACK_TEMPLATE_NONE
        try:
            await self.api.call("views.open", trigger_id=trigger_id, view=modal(phone, known),
                                attempts=1)
        except SlackError as exc:
            log.warning("slack_modal_failed", extra={"phone": phone, "error": exc.error})
            return texts.SLACK_TRY_AGAIN
        return None

    async def submitted(self, body: dict[str, Any]) -> dict[str, str] | None:
        """A submission: the errors to show in the modal, or None once it is queued."""
        view = body.get("view") or {}
        user = (body.get("user") or {}).get("id")
        try:
            phone = canonical_phone(str(json.loads(view.get("private_metadata") or "{}")
                                        .get("phone") or ""))
        except (InvalidPhone, ValueError, AttributeError):
            return {_PICK: texts.SLACK_TEMPLATE_GONE}
        values = (view.get("state") or {}).get("values") or {}
        chosen = (((values.get(_PICK) or {}).get(_PICK) or {}).get("selected_option")
                  or {}).get("value")
        raw = ((values.get(_VARS) or {}).get(_VARS) or {}).get("value") or ""
        template = self.templates.find(str(chosen)) if self.templates else None
        if template is None:
            return {_PICK: texts.SLACK_TEMPLATE_GONE}
        params = [line.strip() for line in str(raw).splitlines() if line.strip()] \
            if template.variables else []
        if len(params) != template.variables:
            return {_VARS: texts.SLACK_TEMPLATE_COUNT.format(want=template.variables,
                                                             got=len(params))}
        attendant = self.identities.known(str(user)) if user else "slack"
        queued = await self.manager.emit(phone, TemplateRequested(
            phone, self.manager.clock(), template.name, template.language, params,
            template.render(params), attendant))
        if not queued:
            return {_PICK: texts.SLACK_TEMPLATE_GONE}
        return None
