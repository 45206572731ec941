"""What customers read on WhatsApp from the service itself, and how their non-text messages
read in a session; plus the WhatsApp adapter's warnings to operators.
"""

from __future__ import annotations

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
