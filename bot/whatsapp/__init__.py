"""WhatsApp Cloud API adapter: Meta's webhooks in, the bot's replies out, nothing lost."""

from bot.whatsapp.mount import setup_whatsapp

__all__ = ["setup_whatsapp"]
