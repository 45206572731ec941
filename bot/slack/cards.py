"""Block Kit for the escalation card and the lines of its thread: pure functions, pt-BR texts.

The card is always drawn from the session as it is now (plus its latest mode change), so
whichever `chat.update` lands last shows the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot import replies
from bot.slack import texts
from handoff.model import Event, Mode, Session
from handoff.watch import window_closes

TAKE = "handoff_assumir"
RELEASE = "handoff_liberar"
TRANSFER = "handoff_transferir"
#: Opens the "Enviar modelo" modal (the same id as `bot.slack.templates.OPEN`).
TEMPLATE_OPEN = "handoff_modelo_abrir"

_MAX_MESSAGE = 500
_MAX_MESSAGES = 5


def escape(text: str) -> str:
    """Slack's three control characters, so customer text cannot mention or link anything."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(slack_id: str) -> str:
    """Slack's mention syntax: user groups (S…) and users (U…/W…)."""
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def slack_time(ts: float) -> str:
    """A time each reader sees in their own zone; the fallback (UTC) shows where it can't."""
    fallback = datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
    return f"<!date^{int(ts)}^{{time}}|{fallback}>"


def slack_day_time(ts: float) -> str:
    """A day and time each reader sees in their own zone ("segunda-feira às 08:00")."""
    fallback = datetime.fromtimestamp(ts, UTC).strftime("%d/%m %H:%M UTC")
    return f"<!date^{int(ts)}^{{date_long_pretty}} {{time}}|{fallback}>"


def slack_since(ts: float) -> str:
    """A time plus Slack's live "n minutes ago", so the wait stays true on an old card."""
    fallback = datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
    return f"<!date^{int(ts)}^{{time}} ({{ago}})|{fallback}>"


@dataclass(frozen=True)
class CardView:
    """What a card shows: the session now, its latest change, and display names."""

    session: Session
    last: Event | None = None
    holder: str | None = None
    actor: str | None = None
    messages: list[str] = field(default_factory=list)
    #: When the card is drawn (whether the customer's window is still open).
    now: float = 0.0
    #: Approved templates can be sent (the card offers Enviar modelo).
    templates: bool = False
    #: Out of hours: when the team opens again (a waiting customer's card says so).
    opens: float | None = None

    def key(self) -> tuple[Any, ...]:
        """Equal keys draw the same card: no `chat.update` needed between them."""
        s = self.session
        closes = window_closes(s)
        return (s.mode, s.human_attendant, s.paused_at, s.taken_at, self.holder, self.actor,
                self.last.at if self.last else None, tuple(self.messages),
                s.profile_name, closes, closes is not None and self.now >= closes, self.opens)


def _status(view: CardView) -> str:
    s = view.session
    if s.mode is Mode.PAUSED and view.opens is not None:
        return texts.SLACK_STATUS_CLOSED.format(time=slack_since(s.paused_at or s.updated_at),
                                                opens=slack_day_time(view.opens))
    if s.mode is Mode.PAUSED:
        return texts.SLACK_STATUS_PAUSED.format(time=slack_since(s.paused_at or s.updated_at))
    if s.mode is Mode.HUMAN:
        line = texts.SLACK_STATUS_HUMAN.format(
            who=view.holder or escape(s.human_attendant or texts.SLACK_LINE_NOBODY),
            time=slack_time(s.taken_at or s.updated_at))
        if s.paused_at and s.taken_at and s.taken_at >= s.paused_at:
            waited = replies.duration(s.taken_at - s.paused_at)
            line += texts.SLACK_STATUS_WAITED.format(wait=waited)
        return line
    at = view.last.at if view.last else s.updated_at
    if view.last is not None and view.last.event == "auto_release":
        return texts.SLACK_STATUS_AGENT_IDLE.format(time=slack_time(at))
    if view.actor:
        return texts.SLACK_STATUS_AGENT.format(who=view.actor, time=slack_time(at))
    return texts.SLACK_STATUS_AGENT_NOBODY.format(time=slack_time(at))


def _button(label: str, action_id: str, phone: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": phone,
                              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button


def card(view: CardView) -> tuple[str, list[dict[str, Any]]]:
    """The card's notification text and blocks."""
    s = view.session
    mode = s.mode.value
    fields = [{"type": "mrkdwn", "text": texts.SLACK_FIELD_PHONE.format(phone=s.phone)}]
    if s.profile_name:
        fields.append({"type": "mrkdwn",
                       "text": texts.SLACK_FIELD_NAME.format(name=escape(s.profile_name[:100]))})
    if s.paused_at:
        fields.append({"type": "mrkdwn",
                       "text": texts.SLACK_FIELD_SINCE.format(time=slack_since(s.paused_at))})
    closes = window_closes(s)
    if closes is not None and s.mode is not Mode.AGENT:
        fields.append({"type": "mrkdwn", "text": texts.SLACK_FIELD_WINDOW_CLOSED
                       if view.now >= closes else
                       texts.SLACK_FIELD_WINDOW_OPEN.format(time=slack_time(closes))})
    recent = [m for m in view.messages if m.strip()][-_MAX_MESSAGES:]
    quoted = "\n".join("> " + escape(" ".join(m.split()))[:_MAX_MESSAGE] for m in recent)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": texts.SLACK_CARD_TITLE[mode]}},
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": texts.SLACK_LAST_MESSAGES.format(
            messages=quoted or texts.SLACK_NO_MESSAGES)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _status(view)}]},
    ]
    template = [_button(texts.SLACK_BUTTON_TEMPLATE, TEMPLATE_OPEN, s.phone)] \
        if view.templates else []
    if s.mode is Mode.PAUSED:
        blocks.append({"type": "actions", "block_id": "handoff_actions", "elements": [
            _button(texts.SLACK_BUTTON_TAKE, TAKE, s.phone, "primary"), *template]})
    elif s.mode is Mode.HUMAN:
        blocks.append({"type": "actions", "block_id": "handoff_actions", "elements": [
            _button(texts.SLACK_BUTTON_RELEASE, RELEASE, s.phone),
            {"type": "users_select", "action_id": TRANSFER, "placeholder": {
                "type": "plain_text", "text": texts.SLACK_TRANSFER_PLACEHOLDER}}, *template]})
    return texts.SLACK_CARD_TEXT[mode].format(phone=s.phone), blocks


def change_line(event: Event, who: str | None) -> str:
    """One thread line for a mode change: what happened, by whom, when, from where."""
    template = texts.SLACK_LINE.get(event.event)
    time = slack_time(event.at)
    if template is None:
        mode = event.to_mode or ""
        line = texts.SLACK_LINE_OTHER.format(emoji=replies.MODE_EMOJI.get(mode, "🔁"),
                                             mode=replies.MODE_NAME.get(mode, mode), time=time)
    else:
        line = template.format(who=who or texts.SLACK_LINE_NOBODY, time=time)
    source = texts.SLACK_SOURCE.get(event.source, event.source)
    return line + texts.SLACK_VIA.format(source=escape(source))
