"""Every pt-BR text the Slack adapter shows: cards, thread lines, pages, Home, answers.

`{time}` is a Slack date token (shown in each reader's time zone); `{who}` a mention.
"""

from __future__ import annotations

SLACK_DISABLED = (
    "Slack desativado: defina SLACK_BOT_TOKEN e SLACK_SIGNING_SECRET para ativar. "
    "Até lá, as notificações aos atendentes ficam só no log."
)
SLACK_NO_CHANNEL = (
    "SLACK_ESCALATION_CHANNEL não definido: os cartões de atendimento não serão postados."
)
SLACK_CARD_TITLE = {
    "paused": "🆘 *Cliente solicitou atendimento humano*",
    "human": "👤 *Conversa com atendente*",
    "agent": "🤖 *Conversa devolvida ao bot*",
}
SLACK_CARD_TEXT = {
    "paused": "🆘 {phone} aguarda um atendente",
    "human": "👤 {phone} está com um atendente",
    "agent": "🤖 {phone} voltou para o bot",
}
SLACK_FIELD_PHONE = "*Telefone:*\n{phone}"
SLACK_FIELD_NAME = "*Cliente:*\n{name}"
SLACK_FIELD_SINCE = "*Aguardando desde:*\n{time}"
SLACK_LAST_MESSAGES = "*Últimas mensagens:*\n{messages}"
SLACK_NO_MESSAGES = "_nenhuma mensagem do cliente ainda_"
SLACK_STATUS_CLOSED = ("🌙 Fora do horário de atendimento: aguardando desde {time}; a equipe "
                       "volta {opens}")
SLACK_STATUS_PAUSED = "⏸️ Aguardando atendente desde {time}"
SLACK_STATUS_HUMAN = "👤 Assumido por {who} às {time}"
SLACK_STATUS_WAITED = " · esperou {wait}"
SLACK_STATUS_AGENT = "🤖 Devolvido ao bot por {who} às {time}"
SLACK_STATUS_AGENT_NOBODY = "🤖 Devolvido ao bot às {time}"
SLACK_STATUS_AGENT_IDLE = "🤖 Devolvido ao bot por inatividade às {time}"
SLACK_BUTTON_TAKE = "Assumir"
SLACK_BUTTON_RELEASE = "Liberar"
SLACK_LINE = {
    "escalation_requested": "⏸️ O cliente pediu atendimento humano às {time}",
    "takeover": "👤 Assumido por {who} às {time}",
    "release": "🤖 Devolvido ao bot por {who} às {time}",
    "pause": "⏸️ Pausado por {who} às {time}: o cliente aguarda um atendente",
    "auto_release": "🤖 Sem mensagens na conversa: devolvido ao bot por inatividade às {time}",
}
SLACK_LINE_OTHER = "{emoji} {mode} às {time}"
SLACK_LINE_NOBODY = "alguém"
SLACK_VIA = " (via {source})"
SLACK_SOURCE = {"slack": "Slack", "rest": "API", "cli": "CLI", "whatsapp": "WhatsApp",
                "monitor": "monitor"}
SLACK_HELD_BY = "❌ A conversa {phone} já está com {holder}."
SLACK_NOT_HOLDER = "❌ Só {holder} ou um supervisor pode liberar a conversa {phone}."
SLACK_BAD_BUTTON = "❌ Este botão não indica uma conversa válida."
SLACK_TRY_AGAIN = "⚠️ Não consegui concluir agora. Tente de novo em instantes."
SLACK_BAD_SIGNATURE = "Assinatura do Slack ausente, inválida ou expirada."
SLACK_BAD_BODY = "Corpo de requisição do Slack inválido."
SLACK_ACCESS_LOST = (
    "O app foi desinstalado do Slack ou seus tokens foram revogados: cartões e respostas "
    "vão falhar até reinstalar o app e atualizar SLACK_BOT_TOKEN."
)
#: Posted in the session's Slack card thread when a message could not reach the customer.
WA_WINDOW_EXPIRED = (
    "⚠️ A janela de 24h expirou: o cliente {phone} não escreve há mais de 24 horas e o "
    "WhatsApp recusou a mensagem. Só um modelo aprovado (template) pode reabrir a conversa."
)
WA_SEND_FAILED = (
    "⚠️ Não foi possível entregar a mensagem ao cliente {phone} pelo WhatsApp "
    "(erro {code}: {detail}). O cliente não recebeu resposta."
)
PAGE_1 = "🚨 {oncall} o cliente {who} pediu uma pessoa e aguarda há {wait}. Alguém pode assumir?"
PAGE_2 = ("🚨🚨 {oncall} {supervisors} o cliente {who} aguarda há {wait} e ninguém assumiu. "
          "Preciso de alguém agora.")
PAGE_HOLDING_SENT = "📨 O cliente {who} recebeu a mensagem de espera após {wait} sem atendimento."
REMINDER = ("⏰ {attendant}, o cliente {who} está esperando sua resposta há {wait}. "
            "Se não puder continuar, use Liberar.")
ONCALL_NOBODY = "@channel"
SLACK_HOME_TITLE = "Conversas ativas"
SLACK_HOME_SUMMARY = ("{waiting} aguardando · {human} com atendente · {agent} com o bot"
                      " · atualizado às {time}")
SLACK_HOME_EMPTY = "Nenhuma conversa ativa no momento."
SLACK_HOME_ROW = "{icon} *{name}*\n{status}\n> {text}"
SLACK_HOME_STATUS = "{holder} · {wait}"
SLACK_HOME_NAMED = "{name} · {phone}"
SLACK_HOME_YOU = "{holder} (você)"
SLACK_HOME_NOBODY = "Ninguém assumiu"
SLACK_HOME_AGENT = "Com o bot"
SLACK_HOME_WAITING = "⏳ aguardando desde {time}"
SLACK_HOME_ANSWERED = "respondido"
SLACK_HOME_NO_TEXT = "_(sem mensagem)_"
SLACK_HOME_MORE = "… e mais {count} conversas (use /status para ver todas)"
THREAD_CUSTOMER = "💬 *{who}:* {text}"
THREAD_NOT_HOLDER = ("Sua resposta não foi enviada ao cliente {phone}: a conversa está com "
                     "{holder}. Para falar com o cliente, assuma a conversa.")
THREAD_NOT_TAKEN = ("Sua resposta não foi enviada ao cliente {phone}: a conversa está com o bot. "
                    "Assuma a conversa para falar com o cliente.")
THREAD_NO_CHANNEL = ("Sua resposta não foi enviada: nem a WhatsApp Cloud API nem "
                     "HANDOFF_OUTBOUND_URL estão configurados.")
THREAD_RELAY_FAILED = "o relay (HANDOFF_OUTBOUND_URL) não aceitou a mensagem."
THREAD_SEND_FAILED = "❌ A mensagem de {who} não chegou ao cliente: {reason}"
THREAD_FILES = "[arquivo] {names}"
THREAD_FILE_TOO_LARGE = ("❌ O arquivo de {who} não foi enviado ao cliente: passa do limite de "
                         "{cap} (HANDOFF_MEDIA_MAX_BYTES).")
THREAD_SUMMARY = ("📋 Resumo do atendimento: {who} por {duration}; "
                  "{customer} mensagem(ns) do cliente, {attendant} do atendimento.")
NOTE_PREFIX = "nota:"

# Transfer (the card's picker, /transferir)
SLACK_TRANSFER_PLACEHOLDER = "Transferir para…"
SLACK_TRANSFER_LINE = "🔁 {who} passou a conversa para {to} às {time}"
SLACK_TRANSFER_DM = ("🔁 {who} passou para você a conversa com o cliente {customer}. "
                     "Responda no fio do cartão: {link}")
SLACK_TRANSFER_DM_NO_LINK = ("🔁 {who} passou para você a conversa com o cliente {customer}. "
                             "Responda no fio do cartão dele no canal de atendimento.")
SLACK_TRANSFER_TO_BOT = "❌ {who} é um bot: transfira a conversa para uma pessoa."
SLACK_TRANSFER_UNKNOWN = ("❌ {who} não é uma pessoa deste workspace do Slack: escolha alguém "
                          "da equipe.")
SLACK_TRANSFER_USAGE = "Uso: /transferir <telefone> @pessoa"
SLACK_TRANSFER_DONE = "🔁 Conversa {phone} transferida para {who}."

# The conversation so far, opening a new card's thread
SLACK_OPENING = "📜 *A conversa até aqui:*\n{lines}"
SLACK_OPENING_LINE = "> {icon} *{who}:* {text}"
SLACK_OPENING_ICON = {"customer": "🙋", "agent": "🤖", "human": "👤", "note": "📝"}
SLACK_OPENING_BOT = "Bot"

# The customer's 24-hour window
SLACK_FIELD_WINDOW_OPEN = "*Janela de 24h:*\nfecha às {time}"
SLACK_FIELD_WINDOW_CLOSED = "*Janela de 24h:*\nfechada"
SLACK_WINDOW_CLOSING = ("⏳ {holder}, a janela de 24h do cliente {who} fecha às {time}: depois "
                        "disso só um modelo aprovado (template) chega até ele.")
SLACK_WINDOW_CLOSED_LINE = ("🔒 A janela de 24h do cliente {who} fechou: mensagens livres não "
                            "chegam mais até ele escrever de novo.")
THREAD_WINDOW_CLOSED = ("Sua resposta não foi enviada ao cliente {phone}: a janela de 24h do "
                        "WhatsApp fechou às {time}. Só um modelo aprovado (template) chega até "
                        "ele agora; quando ele escrever de novo, a janela reabre.")

# A customer's file that cannot be shown in the thread
SLACK_MEDIA_KIND = {"image": "uma foto", "video": "um vídeo", "audio": "um áudio",
                    "voice": "uma mensagem de voz", "document": "um documento",
                    "sticker": "uma figurinha"}
SLACK_MEDIA_TOO_LARGE = ("📎 *{who}* enviou {kind} de {size}, acima do limite de {cap} "
                         "(HANDOFF_MEDIA_MAX_BYTES): não dá para mostrar aqui.{note}")
SLACK_MEDIA_FAILED = ("📎 *{who}* enviou {kind}, mas não foi possível baixar o arquivo "
                      "({reason}).{note}")
SLACK_MEDIA_NOTE = " Legenda: {caption}"

# Approved templates (the "Enviar modelo" modal, /modelo)
SLACK_BUTTON_TEMPLATE = "Enviar modelo"
SLACK_TEMPLATE_TITLE = "Enviar modelo"
SLACK_TEMPLATE_SUBMIT = "Enviar"
SLACK_TEMPLATE_CLOSE = "Cancelar"
SLACK_TEMPLATE_INTRO = ("Fora da janela de 24h só um modelo aprovado chega ao cliente "
                        "{phone}. Escolha o modelo e preencha as variáveis do texto.")
SLACK_TEMPLATE_PICK = "Modelo"
SLACK_TEMPLATE_VARIABLES = "Variáveis, uma por linha ({{1}}, {{2}}, …)"
SLACK_TEMPLATE_NONE = ("Não encontrei modelos aprovados nesta conta do WhatsApp "
                       "(WHATSAPP_BUSINESS_ACCOUNT_ID).")
SLACK_TEMPLATE_OFF = ("Modelos não estão configurados: defina WHATSAPP_BUSINESS_ACCOUNT_ID e a "
                      "WhatsApp Cloud API.")
SLACK_TEMPLATE_UNAVAILABLE = "⚠️ Não consegui ler os modelos da conta agora. Tente de novo."
SLACK_TEMPLATE_COUNT = "Este modelo pede {want} variável(is); você informou {got}."
SLACK_TEMPLATE_GONE = "Este modelo não está mais disponível; escolha outro."
SLACK_TEMPLATE_EMPTY = "Uma variável não pode ficar em branco."
SLACK_TEMPLATE_USAGE = "Uso: /modelo <telefone>"
SLACK_TEMPLATE_SENT = "📨 Modelo *{name}* enviado por {who}: {text}"

# The customer's rating after hand-back
SLACK_RATED = "⭐ {who} avaliou o atendimento de {attendant}: {label}"
SLACK_RATING = {3: "😀 ótimo", 2: "😐 regular", 1: "🙁 ruim"}

# Fair offers (HANDOFF_ASSIGNMENT=offer): a direct message with Aceitar and Recusar
SLACK_OFFER = ("📨 *{who}* está esperando atendimento há {wait}. Você pode assumir? "
               "A oferta vale até {until}; depois passa para a próxima pessoa.")
SLACK_OFFER_SILENT = ("📨 A conversa com *{who}* está sem resposta de {holder} há {wait}. "
                      "Você pode assumir? A oferta vale até {until}; depois passa para a "
                      "próxima pessoa ou volta ao bot.")
SLACK_OFFER_LAST = "Última mensagem: _{text}_"
SLACK_OFFER_ACCEPT = "Aceitar"
SLACK_OFFER_DECLINE = "Recusar"
SLACK_OFFER_ENDED = {
    "accepted": "✅ Você aceitou a conversa com *{who}*: responda no fio do cartão no canal.",
    "declined": "↩️ Você recusou a conversa com *{who}*: ela foi oferecida a outra pessoa.",
    "timeout": "⌛ A oferta da conversa com *{who}* expirou e passou para a próxima pessoa.",
    "taken": "👥 A conversa com *{who}* já foi assumida por outra pessoa.",
}
SLACK_OFFER_GONE = ("Esta oferta não está mais valendo (expirou, foi recusada ou a conversa já "
                    "foi assumida). O cartão no canal de atendimento mostra quem está com ela.")
SLACK_OFFER_LINE = "📨 Oferecida a {who} às {time}"
SLACK_REASSIGN_LINE = ("🔁 {to} aceitou às {time} a conversa, que estava sem resposta de {who}")
