"""Every pt-BR text a person reads: WhatsApp replies, command answers, API messages, CLI output.

Wording is reviewed and changed here only; code elsewhere formats these with named fields.
"""

from __future__ import annotations

MODE_EMOJI = {"agent": "🤖", "human": "👤", "paused": "⏸️"}
MODE_NAME = {"agent": "bot", "human": "atendente", "paused": "aguardando atendente"}

# Customer-facing (WhatsApp)
AGENT_FALLBACK = (
    "No momento não consigo responder. Se quiser falar com uma pessoa, "
    "escreva *atendente* que chamamos alguém da equipe."
)
HOLDING_MESSAGE = (
    "Estamos com alta demanda no momento, mas você não foi esquecido: "
    "um atendente vai falar com você assim que possível."
)

# Takeover / release / pause answers
TAKEN = "✅ Conversa {phone} assumida por {attendant}."
ALREADY_YOURS = "Você já está com a conversa {phone}."
HELD_BY = "❌ A conversa {phone} já está com {holder}."
RELEASED = "🤖 Conversa {phone} devolvida ao bot."
ALREADY_AGENT = "A conversa {phone} já está com o bot."
NOT_HOLDER = "❌ Só {holder} (ou um supervisor) pode liberar a conversa {phone}."
PAUSED = "⏸️ Conversa {phone} pausada: o bot parou e o cliente aguarda um atendente."
ALREADY_PAUSED = "A conversa {phone} já está aguardando atendente."
NOT_HOLDER_PAUSE = "❌ Só {holder} (ou um supervisor) pode pausar a conversa {phone}."
NOT_FOUND = "Conversa {phone} não encontrada."

# Commands
UNKNOWN_COMMAND = "Comando desconhecido: {name}. Envie /ajuda para ver os comandos."
HELP_HEADER = "Comandos disponíveis:"
USAGE = "Uso: {usage}"
STATUS_LINE = "{emoji} {phone} — {mode}"
STATUS_HOLDER = "   → Atendente: {holder}"
STATUS_WAITING = "   → Aguardando há {wait}"
STATUS_NONE = "Nenhuma conversa ativa."
STATUS_TOTAL = "📊 {count} conversa(s) ativa(s)"
HELP = {
    "/assumir": "assume a conversa (o bot para de responder)",
    "/liberar": "devolve a conversa ao bot",
    "/status": "mostra a conversa, ou todas as ativas",
    "/pausar": "pausa o bot até um atendente assumir",
    "/ajuda": "lista os comandos",
}

# HTTP errors (JSON `error` field)
ERR_BAD_JSON = "JSON inválido no corpo da requisição."
ERR_NOT_OBJECT = "O corpo deve ser um objeto JSON."
ERR_MISSING = "Campo obrigatório ausente: {field}."
ERR_TYPE = "Campo {field} deve ser {kind}."
ERR_SENDER = "sender_type deve ser customer, human ou agent."
ERR_PHONE = "Telefone inválido: use de 8 a 15 dígitos."
ERR_MODE = "mode deve ser agent, human ou paused."
ERR_TOKEN = "Token ausente ou inválido: envie Authorization: Bearer <HANDOFF_API_TOKEN>."
ERR_TOO_LARGE = "Corpo da requisição maior que 1 MiB."
ERR_STORE = "Armazenamento indisponível; tente novamente."
ERR_NOT_FOUND_ROUTE = "Rota não encontrada."
ERR_METHOD = "Método não permitido."
ERR_VERIFY = "Token de verificação inválido."

# Start-up
REFUSE_OPEN_HOST = (
    "Recusado: escutar em {host} sem HANDOFF_API_TOKEN deixaria a API aberta na rede. "
    "Defina HANDOFF_API_TOKEN (por exemplo: export HANDOFF_API_TOKEN=$(openssl rand -hex 32)) "
    "ou use --host 127.0.0.1."
)
MEMORY_STORE_WARNING = (
    "REDIS_URL não definido: estado em memória, perdido ao reiniciar. "
    "Defina REDIS_URL para produção."
)

# CLI
CLI_TOTAL = "\n📊 Total: {count} sessões\n"
CLI_SESSION = "{emoji} {phone} - {mode}"
CLI_HOLDER = "   → Atendente: {holder}"
CLI_STATUS = "\n📊 Status: {phone}"
CLI_MODE = "🔧 Modo: {mode}"
CLI_ATTENDANT = "👤 Atendente: {holder}"
CLI_LAST_TEXT = "💬 Última mensagem: {text}"
CLI_OK = "✅ {message}"
CLI_FAIL = "❌ {message}"
CLI_UNREACHABLE = "❌ Servidor inacessível em {url}: {reason}"
CLI_BAD_ANSWER = "❌ Resposta inesperada do servidor (HTTP {status})."


def duration(seconds: float) -> str:
    """A short pt-BR duration: "45s", "12min", "2h05"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}min"
    return f"{s // 3600}h{(s % 3600) // 60:02d}"


# CLI help (argparse)
CLI_HELP = "Administra as conversas de um servidor handoff em execução."
CLI_HELP_URL = "endereço do servidor (padrão: HANDOFF_URL ou http://localhost:8000)"
CLI_HELP_LIST = "lista as sessões ativas"
CLI_HELP_MODE = "só as sessões neste modo"
CLI_HELP_TAKEOVER = "assume uma conversa"
CLI_HELP_RELEASE = "libera uma conversa (devolve ao bot)"
CLI_HELP_STATUS = "mostra o status de uma sessão"


# ---------------------------------------------------------------------------
# Slack app (bot/slack): escalation cards, their thread lines, ephemeral answers.
# `{time}` is a Slack date token (shown in each reader's time zone); `{who}` a mention.
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# WhatsApp Cloud API (bot/whatsapp): placeholders for what is not text, notes to attendants
# ---------------------------------------------------------------------------------------------

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

#: Posted in the session's Slack card thread when a message could not reach the customer.
WA_WINDOW_EXPIRED = (
    "⚠️ A janela de 24h expirou: o cliente {phone} não escreve há mais de 24 horas e o "
    "WhatsApp recusou a mensagem. Só um modelo aprovado (template) pode reabrir a conversa."
)
WA_SEND_FAILED = (
    "⚠️ Não foi possível entregar a mensagem ao cliente {phone} pelo WhatsApp "
    "(erro {code}: {detail}). O cliente não recebeu resposta."
)
WA_NO_APP_SECRET = (
    "Webhook da Meta configurado sem WHATSAPP_APP_SECRET: qualquer um pode forjar "
    "mensagens da Meta neste webhook. Defina WHATSAPP_APP_SECRET (o segredo do app no painel "
    "da Meta) para conferir o X-Hub-Signature-256."
)
ERR_SIGNATURE = "Assinatura X-Hub-Signature-256 ausente ou inválida."
ERR_NOT_META = "Corpo assinado pela Meta deve ter \"object\": \"whatsapp_business_account\"."

# Monitor: on-call ladder and watchdog (bot/monitor.py)
PAGE_1 = "🚨 {oncall} o cliente {who} pediu uma pessoa e aguarda há {wait}. Alguém pode assumir?"
PAGE_2 = ("🚨🚨 {oncall} {supervisors} o cliente {who} aguarda há {wait} e ninguém assumiu. "
          "Preciso de alguém agora.")
PAGE_HOLDING_SENT = "📨 O cliente {who} recebeu a mensagem de espera após {wait} sem atendimento."
REMINDER = ("⏰ {attendant}, o cliente {who} está esperando sua resposta há {wait}. "
            "Se não puder continuar, use Liberar.")
AUTO_RELEASE_CUSTOMER = (
    "Nosso atendente precisou se ausentar e a conversa voltou para o assistente automático. "
    "Se quiser falar com uma pessoa de novo, é só escrever *atendente*."
)
ONCALL_NOBODY = "@channel"

# ---------------------------------------------------------------------------------------------
# Slack Home tab (bot/slack/home.py): "Conversas ativas" for the user who opens it.
# `{time}` is a Slack date token; names and texts arrive already escaped.
# ---------------------------------------------------------------------------------------------
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

# Slack thread ⇄ customer (bot/slack/thread.py)
THREAD_CUSTOMER = "💬 *{who}:* {text}"
THREAD_NOT_HOLDER = ("Sua resposta não foi enviada ao cliente {phone}: a conversa está com "
                     "{holder}. Para falar com o cliente, assuma a conversa.")
THREAD_NOT_TAKEN = ("Sua resposta não foi enviada ao cliente {phone}: a conversa está com o bot. "
                    "Assuma a conversa para falar com o cliente.")
THREAD_NO_CHANNEL = ("Sua resposta não foi enviada: nem a WhatsApp Cloud API nem "
                     "HANDOFF_OUTBOUND_URL estão configurados.")
THREAD_RELAY_FAILED = "o relay (HANDOFF_OUTBOUND_URL) não aceitou a mensagem."
THREAD_SEND_FAILED = "❌ A mensagem de {who} não chegou ao cliente: {reason}"
THREAD_SUMMARY = ("📋 Resumo do atendimento: {who} por {duration}; "
                  "{customer} mensagem(ns) do cliente, {attendant} do atendimento.")
NOTE_PREFIX = "nota:"
