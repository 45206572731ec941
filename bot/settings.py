"""Configuration from the environment or a `.env` file, as the contract names it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.whatsapp import texts as wa_texts
from handoff.escalation import DEFAULT_PHRASES
from handoff.outbox import DEFAULT_SHARDS
from handoff.store.base import TRANSCRIPT_MAX

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every knob of the service; secrets are `SecretStr` so they never print by accident."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", case_sensitive=False,
                                      env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    redis_url: SecretStr | None = None
    handoff_api_token: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_escalation_channel: str | None = None
    slack_oncall: str | None = None
    slack_supervisors: CommaList = []
    slack_oncall_after_hours: str | None = None
    slack_attendants: str | None = None

    whatsapp_verify_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_business_account_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"

    agent_url: str | None = None
    agent_kind: Literal["json", "rasa"] = "json"
    agent_timeout_seconds: float = Field(5.0, gt=0)

    handoff_outbound_url: str | None = None
    handoff_outbound_secret: SecretStr | None = None
    handoff_escalation_keywords: CommaList = list(DEFAULT_PHRASES)
    handoff_paused_alert_seconds: float = Field(600.0, ge=0)
    handoff_idle_alert_seconds: float = Field(180.0, ge=0)
    handoff_idle_release_seconds: float = Field(1800.0, ge=0)
    handoff_monitor_interval_seconds: float = Field(10.0, gt=0)
    handoff_holding_message: str = wa_texts.HOLDING_MESSAGE
    handoff_dedupe_ttl_seconds: float = Field(8 * 24 * 3600, ge=0)
    handoff_outbox_shards: int = Field(DEFAULT_SHARDS, ge=1, le=256)
    handoff_window_warning_seconds: float = Field(3600.0, ge=0)
    handoff_announce_attendant: bool = True
    handoff_queue_ack: bool = True
    handoff_csat: bool = False
    handoff_queue_message: str = wa_texts.QUEUE
    handoff_queue_estimate_message: str = wa_texts.QUEUE_ESTIMATE
    handoff_announce_message: str = wa_texts.ANNOUNCE
    handoff_csat_question: str = wa_texts.CSAT_QUESTION
    handoff_csat_options: CommaList = list(wa_texts.CSAT_OPTIONS)
    handoff_business_hours: str | None = None
    handoff_timezone: str = "America/Sao_Paulo"
    handoff_holidays_region: str | None = None
    handoff_extra_holidays: CommaList = []
    handoff_media_max_bytes: int = Field(25 * 1024 * 1024, ge=1)
    handoff_media_link_seconds: float = Field(3600.0, gt=0)
    handoff_public_url: str | None = None
    handoff_transcript_max: int = Field(TRANSCRIPT_MAX, ge=1, le=100_000)
    handoff_assignment: Literal["channel", "offer"] = "channel"
    handoff_max_conversations: int = Field(5, ge=1)
    handoff_offer_seconds: float = Field(60.0, gt=0)

    @field_validator("slack_supervisors", "handoff_escalation_keywords",
                     "handoff_extra_holidays", "handoff_csat_options", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _offers_need_a_team(self) -> Settings:
        if self.handoff_assignment == "offer" and not (self.slack_enabled
                                                       and self.slack_attendants):
            raise ValueError("HANDOFF_ASSIGNMENT=offer precisa do Slack (SLACK_BOT_TOKEN e "
                             "SLACK_SIGNING_SECRET) e da equipe em SLACK_ATTENDANTS (um grupo "
                             "S… ou ids U… separados por vírgula)")
        return self

    @property
    def offers(self) -> bool:
        return self.handoff_assignment == "offer"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def whatsapp_cloud_enabled(self) -> bool:
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
