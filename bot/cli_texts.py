"""Every pt-BR line the `handoff` command prints."""

from __future__ import annotations

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
CLI_HELP = "Administra as conversas de um servidor handoff em execução."
CLI_HELP_URL = "endereço do servidor (padrão: HANDOFF_URL ou http://localhost:8000)"
CLI_HELP_LIST = "lista as sessões ativas"
CLI_HELP_MODE = "só as sessões neste modo"
CLI_HELP_TAKEOVER = "assume uma conversa"
CLI_HELP_RELEASE = "libera uma conversa (devolve ao bot)"
CLI_HELP_STATUS = "mostra o status de uma sessão"
CLI_HELP_TRANSFER = "passa uma conversa a outro atendente"
CLI_HELP_MESSAGES = "mostra as mensagens de uma conversa"
CLI_HELP_PHONE = "telefone do cliente (só os dígitos, com DDI e DDD)"
CLI_HELP_ATTENDANT = "quem assume (o mesmo id de atendente do painel e do Slack)"
CLI_HELP_TO = "a quem passar a conversa (id de atendente)"
CLI_HELP_HELP = "mostra esta ajuda e sai"
CLI_METAVAR_COMMAND = "COMANDO"
CLI_METAVAR_PHONE = "TELEFONE"
CLI_METAVAR_ATTENDANT = "ATENDENTE"

# `handoff messages`: one line a message, oldest first.
CLI_MESSAGE = "{at} {who}: {text}"
CLI_NO_MESSAGES = "📭 Nenhuma mensagem de {phone}."
CLI_TIME_FORMAT = "%d/%m/%Y %H:%M"
CLI_SENDERS = {
    "customer": "Cliente",
    "agent": "Bot",
    "human": "Atendente",
    "note": "Nota interna",
}
CLI_SENDER_WITH_ATTENDANT = "{who} ({attendant})"

# argparse's own words. Its usage prefix, group titles and error line:
CLI_USAGE = "uso: "
CLI_POSITIONALS = "argumentos posicionais"
CLI_OPTIONALS = "opções"
CLI_USAGE_ERROR = "{prog}: erro: {message}\n"
# ...and its error messages: argparse's English template (its gettext msgid, exactly as it words
# it) → ours. `%(name)s` / `%(name)r` become `{name}`, a bare `%s` / `%r` becomes `{0}`. A
# message argparse words some other way (a future Python) is shown as it comes.
CLI_ARGPARSE = {
    "argument %(argument_name)s: %(message)s": "argumento {argument_name}: {message}",
    "the following arguments are required: %s": "faltam argumentos obrigatórios: {0}",
    "one of the arguments %s is required": "é preciso um destes argumentos: {0}",
    "unrecognized arguments: %s": "argumentos não reconhecidos: {0}",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "opção inválida: {value} (escolha entre {choices})",
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)":
        "opção inválida: {value}; seria {closest}? (escolha entre {choices})",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "comando desconhecido: {parser_name} (escolha entre {choices})",
    "expected one argument": "espera um valor",
    "expected at most one argument": "aceita no máximo um valor",
    "expected at least one argument": "espera ao menos um valor",
    "expected %s argument": "espera {0} valor",
    "expected %s arguments": "espera {0} valores",
    "ambiguous option: %(option)s could match %(matches)s":
        "opção ambígua: {option} pode ser {matches}",
    "ignored explicit argument %r": "não aceita valor: {0}",
    "not allowed with argument %s": "não pode ser usado com o argumento {0}",
    "invalid %(type)s value: %(value)r": "valor inválido ({type}): {value}",
    "unexpected option string: %s": "opção inesperada: {0}",
}
