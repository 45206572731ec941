"""The outbox's `slack` group: every event attendants see in Slack, applied in order.

Mode changes redraw the card and add a thread line; customer messages, pages, the holding
message, hand-back summaries and failed sends become thread lines; reminders go to the holder
alone; delivery reports become reactions on the attendant's message; the Home tab refreshes.
A Slack refusal that trying again will not fix (`SlackError`) is logged and the event is
done; anything else (Slack down, rate limits past their retries) is retried by the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import aiohttp

from bot import replies
from bot.background import RetryLater
from bot.media import MediaSource, MediaTooLarge, MediaUnavailable
from bot.sending import NotSent
from bot.slack import texts
from bot.slack.cards import escape, mention
from bot.slack.client import SlackApi, SlackError
from bot.slack.home import HomeTab
from bot.slack.identity import Identities
from bot.slack.notifier import CardNotifier
from bot.slack.offers import OfferMessages
from bot.slack.thread import ThreadBridge, parse_origin
from handoff.delivery import Dispatcher
from handoff.events import (
    AttendantMessage,
    AttendantWrote,
    CustomerMessage,
    CustomerTold,
    DeliveryUpdate,
    DomainEvent,
    HandedBack,
    ModeChanged,
    NoteAdded,
    Offered,
    OfferEnded,
    PageDue,
    Rated,
    ReminderDue,
    SendFailed,
    TemplateSent,
    Told,
    Transferred,
    WindowClosed,
    WindowDue,
)

log = logging.getLogger("handoff.slack")

GROUP = "slack"

REACTIONS = {"sent": "heavy_check_mark", "delivered": "ballot_box_with_check", "read": "eyes",
             "failed": "x", "note": "memo"}

E = TypeVar("E", bound=DomainEvent)


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def customer_name(phone: str, name: str | None) -> str:
    return f"{name} ({phone})" if name else phone


class SlackFeed:
    """Subscribes the Slack adapter's parts to the outbox's events."""

    def __init__(self, notifier: CardNotifier, thread: ThreadBridge, home: HomeTab,
                 identities: Identities, api: SlackApi, *, oncall: str | None,
                 supervisors: Iterable[str], media: MediaSource | None = None,
                 after_hours: str | None = None, offers: OfferMessages | None = None) -> None:
        self.after_hours = after_hours
        self.offers = offers
        self.notifier = notifier
        self.media = media
        self.thread = thread
        self.home = home
        self.identities = identities
        self.api = api
        self.oncall = oncall
        self.supervisors = list(supervisors)

    def subscribe(self, d: Dispatcher) -> None:
        d.on(ModeChanged, "card", self._guard(self.notifier.changed))
        d.on(ModeChanged, "opening", self._guard(self.notifier.opening))
        d.on(Transferred, "card", self._guard(self.notifier.transferred))
        d.on(Transferred, "dm", self._guard(self.notifier.tell_new_holder))
        d.on(WindowDue, "card", self._guard(self.notifier.window))
        d.on(TemplateSent, "thread", self._guard(self.template_sent))
        d.on(Rated, "thread", self._guard(self.rated))
        d.on(CustomerMessage, "thread", self._guard(self.customer_message))
        d.on(AttendantWrote, "reply", self._guard(self.thread.written))
        d.on(HandedBack, "thread", self._guard(self.handed_back))
        d.on(PageDue, "thread", self._guard(self.page))
        d.on(CustomerTold, "thread", self._guard(self.told))
        d.on(ReminderDue, "remind", self._guard(self.reminder))
        d.on(DeliveryUpdate, "reaction", self._guard(self.delivery))
        d.on(SendFailed, "thread", self._guard(self.send_failed))
        d.on(WindowClosed, "thread", self._guard(self.window_closed))
        d.on(NoteAdded, "reaction", self._guard(self.note))
        for kind in (ModeChanged, Transferred, CustomerMessage, AttendantMessage):
            d.on(kind, "home", self.refresh_home)
        if self.offers is not None:
            d.on(Offered, "dm", self._guard(self.offers.offered))
            d.on(Offered, "thread", self._guard(self.offers.line))
            d.on(OfferEnded, "dm", self._guard(self.offers.ended))

    def _guard(self, handler: Callable[[E], Awaitable[None]]) -> Callable[[E], Awaitable[None]]:
        """A refusal Slack will repeat is logged, not retried."""

        async def guarded(event: E) -> None:
            try:
                await handler(event)
            except SlackError as exc:
                log.error("slack_feed_failed", extra={"phone": event.phone, "kind": event.kind,
                                                      "error": exc.error})

        return guarded

    async def refresh_home(self, event: DomainEvent) -> None:
        self.home.refresh_all()

    async def customer_message(self, event: CustomerMessage) -> None:
        line = texts.THREAD_CUSTOMER.format(who=escape(event.name or event.phone),
                                            text=escape(event.text))
        if event.media and self.media is not None:
            await self._file(event, event.media, line)
            return
        await self.notifier.line(event.phone, line)

    async def _file(self, event: CustomerMessage, media: dict[str, Any], line: str) -> None:
        """The file itself in the thread, with the message's line; when it cannot be shown,
        a line that says what arrived and why."""
        media_source = self.media
        assert media_source is not None
        who = escape(event.name or event.phone)
        kind = texts.SLACK_MEDIA_KIND.get(str(media.get("kind")), "um arquivo")
        caption = media.get("caption")
        note = texts.SLACK_MEDIA_NOTE.format(caption=escape(caption)) \
            if isinstance(caption, str) and caption else ""
        try:
            async with media_source.open(media) as opened:
                await self.notifier.file(event.phone, opened, line)
            return
        except MediaTooLarge as exc:
            text = texts.SLACK_MEDIA_TOO_LARGE.format(
                who=who, kind=kind, size=megabytes(exc.size),
                cap=megabytes(media_source.max_bytes), note=note)
        except (MediaUnavailable, RetryLater, aiohttp.ClientError, OSError,
                TimeoutError) as exc:
            log.warning("slack_media_failed", extra={"phone": event.phone,
                                                     "error": str(exc) or repr(exc)})
            text = texts.SLACK_MEDIA_FAILED.format(who=who, kind=kind,
                                                   reason=escape(str(exc) or "erro"), note=note)
        await self.notifier.line(event.phone, text)

    async def handed_back(self, event: HandedBack) -> None:
        await self.notifier.line(event.phone, await self.notifier.summary_line(event.summary))

    async def page(self, event: PageDue) -> None:
        paged = self.after_hours if event.after_hours and self.after_hours else self.oncall
        oncall = mention(paged) if paged else texts.ONCALL_NOBODY
        who, wait = customer_name(event.phone, event.name), replies.duration(event.waited)
        if event.step == 1:
            text = texts.PAGE_1.format(oncall=oncall, who=who, wait=wait)
        else:
            sups = " ".join(mention(u) for u in self.supervisors)
            text = texts.PAGE_2.format(oncall=oncall, supervisors=sups, who=who, wait=wait)
        await self.notifier.line(event.phone, text, broadcast=True)

    async def rated(self, event: Rated) -> None:
        who = await self.identities.mention(event.attendant) or texts.SLACK_LINE_NOBODY
        await self.notifier.line(event.phone, texts.SLACK_RATED.format(
            who=escape(event.phone), attendant=who,
            label=texts.SLACK_RATING.get(event.score, str(event.score))))

    async def template_sent(self, event: TemplateSent) -> None:
        who = await self.identities.mention(event.attendant) or escape(event.attendant)
        await self.notifier.line(event.phone, texts.SLACK_TEMPLATE_SENT.format(
            name=escape(event.name), who=who, text=escape(event.text)))

    async def told(self, event: CustomerTold) -> None:
        if event.what == Told.HOLDING and event.sent:
            await self.notifier.line(event.phone, texts.PAGE_HOLDING_SENT.format(
                who=customer_name(event.phone, event.name), wait=replies.duration(event.waited)))

    async def reminder(self, event: ReminderDue) -> None:
        text = texts.REMINDER.format(attendant=event.attendant,
                                     who=customer_name(event.phone, event.name),
                                     wait=replies.duration(event.waited))
        await self.notifier.remind(event.phone, event.attendant, text)

    async def delivery(self, event: DeliveryUpdate) -> None:
        if event.status in REACTIONS:
            await self._react(event.origin, event.status)

    async def note(self, event: NoteAdded) -> None:
        await self._react(event.origin, "note")

    async def send_failed(self, event: SendFailed) -> None:
        await self._react(event.origin, "failed")
        if event.reason == NotSent.TOO_LARGE:
            who = await self.identities.mention(event.attendant) or event.attendant or ""
            text = texts.THREAD_FILE_TOO_LARGE.format(who=who, cap=megabytes(
                self.media.max_bytes) if self.media else "o limite")
        elif event.reason in (NotSent.RELAY_FAILED, NotSent.NO_CHANNEL):
            if event.origin is None:
                return  # only an attendant's reply is explained in the thread
            reason = (texts.THREAD_RELAY_FAILED if event.reason == NotSent.RELAY_FAILED
                      else texts.THREAD_NO_CHANNEL)
            who = await self.identities.mention(event.attendant) or event.attendant or ""
            text = texts.THREAD_SEND_FAILED.format(who=who, reason=reason)
        else:
            text = texts.WA_SEND_FAILED.format(
                phone=event.phone, code=event.code if event.code is not None else "—",
                detail=event.detail)
        await self.notifier.line(event.phone, text)

    async def window_closed(self, event: WindowClosed) -> None:
        await self._react(event.origin, "failed")
        await self.notifier.line(event.phone, texts.WA_WINDOW_EXPIRED.format(phone=event.phone))

    async def _react(self, where: str | None, outcome: str) -> None:
        found = parse_origin(where)
        if found is None:
            return
        channel, ts = found
        try:
            await self.api.call("reactions.add", channel=channel, timestamp=ts,
                                name=REACTIONS[outcome])
        except SlackError as exc:
            if exc.error != "already_reacted":
                log.warning("slack_reaction_failed", extra={"error": exc.error})
