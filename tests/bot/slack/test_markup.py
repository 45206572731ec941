"""Slack's markup, as Slack sends it, becomes what WhatsApp shows."""

from __future__ import annotations

import pytest

from bot.slack.markup import to_whatsapp

NAMES = {"U0ANA": "Ana Souza", "U0BRUNO": None}


async def name_of(user: str) -> str | None:
    return NAMES.get(user)


@pytest.mark.parametrize(("slack", "whatsapp"), [
    ("Veja <https://loja.com/p/42|seu pedido>", "Veja seu pedido (https://loja.com/p/42)"),
    ("<https://loja.com/p/42>", "https://loja.com/p/42"),
    ("<https://loja.com|https://loja.com>", "https://loja.com"),
    ("fale com <@U0ANA>", "fale com @Ana Souza"),
    ("fale com <@U0BRUNO|bruno>", "fale com @bruno"),
    ("fale com <@U0XYZ>", "fale com @U0XYZ"),
    ("veja <#C0VENDAS|vendas>", "veja #vendas"),
    ("<!here> atenção", "@here atenção"),
    ("<!subteam^S0ONCALL|@plantao>", "@plantao"),
    ("às <!date^1767225600^{time}|10:00>", "às 10:00"),
    ("<mailto:ana@empresa.com|ana@empresa.com>", "ana@empresa.com"),
    ("<tel:+5531999999999|(31) 99999-9999>", "(31) 99999-9999"),
    ("1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
    ("&amp;lt; fica", "&lt; fica"),
    ("*negrito* _itálico_ ~riscado~ `código`", "*negrito* _itálico_ ~riscado~ `código`"),
    ("sem nada", "sem nada"),
    ("", ""),
    ("<>", ""),
])
async def test_slack_to_whatsapp(slack: str, whatsapp: str) -> None:
    assert await to_whatsapp(slack, name_of) == whatsapp
