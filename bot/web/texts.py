"""The HTTP adapter's pt-BR words: JSON error messages, and what the service says at start-up."""

from __future__ import annotations

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
REFUSE_OPEN_HOST = (
    "Recusado: escutar em {host} sem HANDOFF_API_TOKEN deixaria a API aberta na rede. "
    "Defina HANDOFF_API_TOKEN (por exemplo: export HANDOFF_API_TOKEN=$(openssl rand -hex 32)) "
    "ou use --host 127.0.0.1."
)
MEMORY_STORE_WARNING = (
    "REDIS_URL não definido: estado em memória, perdido ao reiniciar. "
    "Defina REDIS_URL para produção."
)
ERR_SIGNATURE = "Assinatura X-Hub-Signature-256 ausente ou inválida."
ERR_NOT_META = "Corpo assinado pela Meta deve ter \"object\": \"whatsapp_business_account\"."
BAD_SCHEDULE = ("Horário de atendimento inválido (HANDOFF_BUSINESS_HOURS, HANDOFF_TIMEZONE, "
                "HANDOFF_HOLIDAYS_REGION ou HANDOFF_EXTRA_HOLIDAYS): {reason}.")
ERR_MEDIA_LINK = "Link de arquivo inválido ou expirado."
ERR_MEDIA_UPSTREAM = "Não foi possível buscar o arquivo no Slack agora; tente de novo."
ERR_MEDIA_URL = "media.url deve ser um endereço http(s) do arquivo."
BAD_SETTINGS = "Configuração inválida: {reason}"
SERVE_DESCRIPTION = ("Serve o handoff: webhooks do WhatsApp, Slack, API REST, painel e métricas, "
                     "configurado pelo ambiente (ou um arquivo .env).")
SERVE_HOST_HELP = "endereço em que escuta (HOST; padrão 127.0.0.1)"
SERVE_PORT_HELP = "porta em que escuta (PORT; padrão 8000)"
