"""What a slash command or a card button does, run in the background after Bolt has acked.

Answers go back ephemerally: slash commands through their `response_url`, buttons with
`chat.postEphemeral` beside the card. The card itself is redrawn by the notifier, which hears
every mode change from the manager, so a button never draws it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp

from bot import replies
from bot.background import RetryLater
from bot.slack import texts
from bot.slack.cards import RELEASE, TAKE
from bot.slack.client import SlackApi, SlackError
from bot.slack.identity import Identities
from bot.slack.notifier import thread_key
from bot.slack.templates import TemplatePicker
from handoff.coordination import Claims
from handoff.ledger import Ledger
from handoff.machine import Outcome
from handoff.manager import SessionManager
from handoff.model import Source
from handoff.phones import InvalidPhone, canonical_phone
from handoff.store import StoreUnavailable

log = logging.getLogger("handoff.slack")

#: Two clicks of one user on one button within this many seconds are one click.
DOUBLE_CLICK_SECONDS = 3.0

_LINK = re.compile(r"<(?:tel:|mailto:)?([^|>]*)(?:\|[^>]*)?>")
#: A user as Slack escapes it in a command's text (`<@U123|ana>`), or a bare user id.
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
TRANSFER_COMMAND = "/transferir"
TEMPLATE_COMMAND = "/modelo"
_PHONE_WITH_SPACES = re.compile(r"[0-9+()\-.\s]*[0-9][0-9+()\-.\s]*")
_TRANSIENT = (RetryLater, StoreUnavailable, aiohttp.ClientError, OSError, TimeoutError)


def command_text(text: str) -> str:
    """What the attendant meant: Slack's `<tel:…|…>` links unwrapped, a spaced phone joined."""
    plain = _LINK.sub(lambda m: m.group(1), text).strip()
    if _PHONE_WITH_SPACES.fullmatch(plain):
        return "".join(plain.split())
    return plain


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class SlackActions:
    """Runs attendants' Slack actions through the manager, as the attendant they are.

    Whether they may act on someone else's conversation is the manager's call: it is told
    the Slack user id too, since supervisors may be listed by it.
    """

    def __init__(self, manager: SessionManager, claims: Claims, ledger: Ledger, api: SlackApi,
                 identities: Identities, templates: TemplatePicker) -> None:
        self.templates = templates
        self.manager = manager
        self.claims = claims
        self.ledger = ledger
        self.api = api
        self.identities = identities

    async def command(self, body: dict[str, Any]) -> None:
        """`/assumir …`, `/liberar …`, `/status …` (any command): the core's answer."""
        user, command = _str(body.get("user_id")), _str(body.get("command"))
        if user is None or command is None:
            log.warning("slack_command_ignored", extra={"reason": "no user or command"})
            return
        raw = body.get("text")
        text = raw if isinstance(raw, str) else ""
        try:
            if command.casefold() == TEMPLATE_COMMAND:
                answer = await self.templates.open(str(body.get("trigger_id") or ""),
                                                   command_text(text)) or ""
                if not answer:
                    return  # the modal says it all
            elif command.casefold() == TRANSFER_COMMAND:
                answer = await self._transfer_command(user, text)
            else:
                attendant = await self.identities.attendant(user)
                result = await self.manager.run_command(
                    f"{command} {command_text(text)}", attendant=attendant,
                    source=Source.SLACK, also=(user,))
                answer = replies.word(result)
        except _TRANSIENT as exc:
            log.error("slack_command_failed", extra={"user": user, "error": repr(exc)})
            answer = texts.SLACK_TRY_AGAIN
        await self._tell(user, answer, response_url=_str(body.get("response_url")),
                         channel=_str(body.get("channel_id")))

    async def _transfer_command(self, user: str, text: str) -> str:
        """`/transferir <telefone> @pessoa`: the person is a Slack user (as Slack escapes
        mentions), turned into the attendant the core knows before the core is asked."""
        words = text.split()
        found = _USER.match(words[-1]) if len(words) >= 2 else None
        if found is None:
            return texts.SLACK_TRANSFER_USAGE
        phone, target = command_text(" ".join(words[:-1])), found.group(1) or found.group(2)
        answer = await self.transfer(user, phone, target)
        return answer or texts.SLACK_TRANSFER_DONE.format(phone=phone, who=f"<@{target}>")

    async def transfer(self, user: str, phone_text: str, target: str) -> str | None:
        """`user` passes the conversation to the Slack user `target`: refused for a bot, a
        stranger or oneself; the answer, or None when the card and thread say it all."""
        try:
            phone = canonical_phone(phone_text)
        except InvalidPhone:
            return texts.SLACK_TRANSFER_USAGE
        person = await self.identities.person(target)
        if person is None:
            return texts.SLACK_TRANSFER_UNKNOWN.format(who=f"<@{target}>")
        if person.is_bot:
            return texts.SLACK_TRANSFER_TO_BOT.format(who=f"<@{target}>")
        attendant = await self.identities.attendant(user)
        r = await self.manager.transfer(phone, person.attendant, attendant,
                                        source=Source.SLACK, also=(user,))
        if r.outcome is Outcome.CHANGED:
            return None
        return replies.acted(r, holder=await self.identities.mention(r.holder))

    async def open_template(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Enviar modelo (on a card, or in a hint): the modal, or why it cannot open."""
        user = _str((body.get("user") or {}).get("id"))
        trigger, value = _str(body.get("trigger_id")), _str(action.get("value"))
        if user is None or trigger is None:
            return
        answer = await self.templates.open(trigger, value or "")
        if answer is not None:
            channel = _str((body.get("channel") or {}).get("id")) or _str(
                (body.get("container") or {}).get("channel_id"))
            await self._tell(user, answer, channel=channel,
                             response_url=_str(body.get("response_url")), prefer_channel=True)

    async def pick(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Someone picked a colleague in a card's Transferir menu."""
        user = _str((body.get("user") or {}).get("id"))
        target = _str(action.get("selected_user"))
        channel = _str((body.get("channel") or {}).get("id")) or _str(
            (body.get("container") or {}).get("channel_id"))
        card_ts = _str((body.get("message") or {}).get("ts")) or _str(
            (body.get("container") or {}).get("message_ts"))
        if user is None or target is None or channel is None or card_ts is None:
            log.warning("slack_pick_ignored", extra={"action": action.get("action_id")})
            return
        try:
            phone = await self.ledger.get(thread_key(channel, card_ts))
            answer = (texts.SLACK_BAD_BUTTON if phone is None
                      else await self.transfer(user, phone, target))
        except _TRANSIENT as exc:
            log.error("slack_click_failed", extra={"user": user, "error": repr(exc)})
            answer = texts.SLACK_TRY_AGAIN
        if answer is not None:
            await self._tell(user, answer, channel=channel,
                             response_url=_str(body.get("response_url")), prefer_channel=True)

    async def click(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Assumir or Liberar on a card, once per click, for the clicking attendant."""
        user = _str((body.get("user") or {}).get("id"))
        action_id, value = _str(action.get("action_id")), _str(action.get("value"))
        if user is None or action_id not in (TAKE, RELEASE):
            log.warning("slack_click_ignored", extra={"action": action_id})
            return
        channel = _str((body.get("channel") or {}).get("id")) or _str(
            (body.get("container") or {}).get("channel_id"))
        response_url = _str(body.get("response_url"))
        answer = await self.press(user, action_id, value)
        if answer is not None:
            await self._tell(user, answer, channel=channel, response_url=response_url,
                             prefer_channel=True)

    async def press(self, user: str, action_id: str, value: str | None) -> str | None:
        """One button press (a card's or the Home tab's), once per double-click.

        Returns what the user must be told, or None when the redrawn surface says it all.
        """
        try:
            if not await self.claims.claim(
                    f"slack:click:{user}:{action_id}:{value}", DOUBLE_CLICK_SECONDS):
                log.info("slack_double_click", extra={"user": user, "action": action_id})
                return None
            return await self._act(user, action_id, value)
        except _TRANSIENT as exc:
            log.error("slack_click_failed", extra={"user": user, "error": repr(exc)})
            return texts.SLACK_TRY_AGAIN

    async def _act(self, user: str, action_id: str, value: str | None) -> str | None:
        """Take or release; the ephemeral answer, or None when the card says it all."""
        try:
            phone = canonical_phone(value or "")
        except InvalidPhone:
            return texts.SLACK_BAD_BUTTON
        attendant = await self.identities.attendant(user)
        if action_id == TAKE:
            r = await self.manager.takeover(phone, attendant, source=Source.SLACK,
                                            also=(user,))
            if r.outcome is Outcome.CONFLICT and r.session is not None:
                holder = await self.identities.mention(r.session.human_attendant)
                return texts.SLACK_HELD_BY.format(phone=phone, holder=holder)
        else:
            r = await self.manager.release(phone, attendant, source=Source.SLACK,
                                           also=(user,))
            if r.outcome is Outcome.FORBIDDEN and r.session is not None:
                holder = await self.identities.mention(r.session.human_attendant)
                return texts.SLACK_NOT_HOLDER.format(phone=phone, holder=holder)
        return None if r.outcome is Outcome.CHANGED else replies.acted(r)

    async def _tell(self, user: str, text: str, *, channel: str | None,
                    response_url: str | None, prefer_channel: bool = False) -> None:
        """An ephemeral answer for `user` only, by whichever way Slack gave us."""
        try:
            if channel and (prefer_channel or not response_url):
                await self.api.call("chat.postEphemeral", channel=channel, user=user, text=text)
            elif response_url:
                await self.api.respond(response_url, {"response_type": "ephemeral",
                                                      "replace_original": False, "text": text})
            else:
                log.warning("slack_cannot_answer", extra={"user": user})
        except SlackError as exc:
            log.error("slack_answer_failed", extra={"user": user, "error": exc.error})
