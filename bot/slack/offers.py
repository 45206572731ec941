"""Fair offers in Slack: the direct message with Aceitar and Recusar, kept true as it ends.

The offer's message goes to the attendant's DM with the app (`conversations.open`, then
`chat.postMessage`); where it went is kept in the ledger so that the end of the offer (taken,
declined, expired) redraws it without buttons. Answers run in the background after the ack.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bot import replies
from bot.background import RetryLater
from bot.slack import texts
from bot.slack.cards import escape, slack_time
from bot.slack.client import SlackApi
from bot.slack.identity import Identities
from bot.slack.notifier import CardNotifier
from handoff.events import Offered, OfferEnded
from handoff.ledger import Ledger
from handoff.manager import SessionManager
from handoff.phones import InvalidPhone, canonical_phone
from handoff.routing import OfferReason
from handoff.store import StoreUnavailable

log = logging.getLogger("handoff.slack")

ACCEPT = "handoff_oferta_aceitar"
DECLINE = "handoff_oferta_recusar"
#: How long an offer's message is remembered (offers last a minute or so).
MESSAGE_TTL = 24 * 3600.0
_TRANSIENT = (RetryLater, StoreUnavailable, aiohttp.ClientError, OSError, TimeoutError)


def offer_value(phone: str, at: float) -> str:
    """What the buttons carry: the conversation and which offer of it."""
    return f"{phone}|{at!r}"


def parse_value(value: str) -> tuple[str, float] | None:
    phone, _, at = value.partition("|")
    try:
        return canonical_phone(phone), float(at)
    except (InvalidPhone, ValueError):
        return None


def _key(phone: str, at: float) -> str:
    return f"offer:{phone}:{at!r}"


class OfferMessages:
    def __init__(self, manager: SessionManager, api: SlackApi, identities: Identities,
                 ledger: Ledger, notifier: CardNotifier) -> None:
        self.manager = manager
        self.api = api
        self.identities = identities
        self.ledger = ledger
        self.notifier = notifier

    async def _who(self, phone: str) -> str:
        session = await self.manager.get(phone)
        return escape(session.profile_name or phone) if session else phone

    async def offered(self, event: Offered) -> None:
        """The direct message with the two buttons."""
        user = await self.identities.user_id(event.attendant)
        if user is None:
            log.warning("offer_unreachable", extra={"phone": event.phone,
                                                    "attendant": event.attendant})
            return
        session = await self.manager.get(event.phone)
        who = escape(session.profile_name or event.phone) if session else event.phone
        if event.reason == OfferReason.SILENT.value:
            holder = await self.identities.mention(event.holder) or texts.SLACK_LINE_NOBODY
            since = session.taken_at if session and session.taken_at else event.at
            text = texts.SLACK_OFFER_SILENT.format(
                who=who, holder=holder, wait=replies.duration(event.at - since),
                until=slack_time(event.expires))
        else:
            since = session.paused_at if session and session.paused_at else event.at
            text = texts.SLACK_OFFER.format(who=who, wait=replies.duration(event.at - since),
                                            until=slack_time(event.expires))
        blocks: list[dict[str, Any]] = [{"type": "section",
                                         "text": {"type": "mrkdwn", "text": text}}]
        if session and session.last_customer_text:
            blocks.append({"type": "context", "elements": [{
                "type": "mrkdwn", "text": texts.SLACK_OFFER_LAST.format(
                    text=escape(session.last_customer_text[:300]))}]})
        value = offer_value(event.phone, event.at)
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": ACCEPT, "style": "primary", "value": value,
             "text": {"type": "plain_text", "text": texts.SLACK_OFFER_ACCEPT}},
            {"type": "button", "action_id": DECLINE, "value": value,
             "text": {"type": "plain_text", "text": texts.SLACK_OFFER_DECLINE}}]})
        opened = await self.api.call("conversations.open", users=user)
        channel = (opened.get("channel") or {}).get("id") or user
        posted = await self.api.call("chat.postMessage", channel=channel, text=text,
                                     blocks=blocks)
        await self.ledger.put(_key(event.phone, event.at),
                              f"{posted.get('channel') or channel} {posted.get('ts')}",
                              MESSAGE_TTL)

    async def line(self, event: Offered) -> None:
        """The card's thread says who the conversation is on offer to."""
        who = await self.identities.mention(event.attendant) or escape(event.attendant)
        await self.notifier.line(event.phone, texts.SLACK_OFFER_LINE.format(
            who=who, time=slack_time(event.at)))

    async def ended(self, event: OfferEnded) -> None:
        """The offer's message says how it ended, without its buttons."""
        found = await self.ledger.get(_key(event.phone, event.offered_at))
        if not found or " " not in found:
            return
        channel, ts = found.split(" ", 1)
        text = texts.SLACK_OFFER_ENDED.get(event.outcome, texts.SLACK_OFFER_GONE).format(
            who=await self._who(event.phone))
        await self.api.call("chat.update", channel=channel, ts=ts, text=text,
                            blocks=[{"type": "section",
                                     "text": {"type": "mrkdwn", "text": text}}])

    async def answer(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Aceitar or Recusar, as the clicking attendant; a stale button says so."""
        user = (body.get("user") or {}).get("id")
        value = action.get("value")
        parsed = parse_value(value) if isinstance(value, str) else None
        if not isinstance(user, str) or parsed is None:
            log.warning("slack_offer_ignored", extra={"action": action.get("action_id")})
            return
        phone, at = parsed
        try:
            attendant = await self.identities.attendant(user)
            answered = await self.manager.answer_offer(
                phone, at, attendant, action.get("action_id") == ACCEPT)
            answer = texts.SLACK_OFFER_GONE if answered.outcome is None else None
        except _TRANSIENT as exc:
            log.error("slack_offer_failed", extra={"user": user, "error": repr(exc)})
            answer = texts.SLACK_TRY_AGAIN
        url = body.get("response_url")
        if answer is not None and isinstance(url, str) and url:
            await self.api.respond(url, {"response_type": "ephemeral",
                                         "replace_original": False, "text": answer})
