"""What customers read on WhatsApp from the service itself, and how their non-text messages
read in a session; plus the WhatsApp adapter's warnings to operators.
"""

from __future__ import annotations

from datetime import datetime

AGENT_FALLBACK = (
    "No momento não consigo responder. Se quiser falar com uma pessoa, "
    "escreva *atendente* que chamamos alguém da equipe."
)
HOLDING_MESSAGE = (
    "Estamos com alta demanda no momento, mas você não foi esquecido: "
    "um atendente vai falar com você assim que possível."
)
#: How a customer's non-text message reads in the session, the agent's input and the history;
#: a caption (or a document's file name) follows the label: "[imagem] nota fiscal".
WA_LABELS = {
    "image": "[imagem]",
    "audio": "[áudio]",
    "voice": "[mensagem de voz]",
    "video": "[vídeo]",
    "document": "[documento]",
    "sticker": "[figurinha]",
    "location": "[localização]",
    "contacts": "[contato]",
    "order": "[pedido]",
    "form": "[formulário]",
    "unsupported": "[mensagem não suportada]",
}
WA_LOCATION = "{name} {lat}, {lng}"
WA_ORDER_ITEMS = "{label} ({count} item(ns))"
WA_NO_APP_SECRET = (
    "Webhook da Meta configurado sem WHATSAPP_APP_SECRET: qualquer um pode forjar "
    "mensagens da Meta neste webhook. Defina WHATSAPP_APP_SECRET (o segredo do app no painel "
    "da Meta) para conferir o X-Hub-Signature-256."
)
AUTO_RELEASE_CUSTOMER = (
    "Nosso atendente precisou se ausentar e a conversa voltou para o assistente automático. "
    "Se quiser falar com uma pessoa de novo, é só escrever *atendente*."
)

#: Told to a customer who asks for a person while the team is closed.
OUT_OF_HOURS = ("Nossa equipe está fora do horário de atendimento agora. Voltamos {when}. "
                "Sua mensagem fica registrada e uma pessoa vai falar com você assim que "
                "chegarmos.")
WEEKDAYS = ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
            "sábado", "domingo")


def when_back(opens: datetime, now: datetime) -> str:
    """"hoje às 13:00", "amanhã às 08:00", "na segunda-feira às 08:00", "em 25/12 às 08:00"."""
    at = opens.strftime("%H:%M")
    days = (opens.date() - now.date()).days
    if days <= 0:
        return f"hoje às {at}"
    if days == 1:
        return f"amanhã às {at}"
    if days < 7:
        article = "no" if opens.weekday() >= 5 else "na"
        return f"{article} {WEEKDAYS[opens.weekday()]} às {at}"
    return f"em {opens.strftime('%d/%m')} às {at}"

#: What a customer who asks for a person is told (`{position}`: their place in the queue).
QUEUE = "Você é o {position}º da fila. Já chamamos alguém da equipe."
QUEUE_ESTIMATE = "Você é o {position}º da fila. Tempo estimado: cerca de {minutes} minutos."
#: On claim: who is with the customer now (the attendant's Slack display name).
ANNOUNCE = "{name} está com você agora."
ANNOUNCE_NAMELESS = "Uma pessoa da nossa equipe está com você agora."
#: After hand-back, when HANDOFF_CSAT=true: the question and its three answers (best first).
CSAT_QUESTION = "Como foi seu atendimento?"
CSAT_OPTIONS = ["😀 Ótimo", "😐 Regular", "🙁 Ruim"]
