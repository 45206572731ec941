// The attendants' page: polls GET /sessions/active every 3 s and acts through the REST API.
// Plain modern JavaScript, no build step. Every server string reaches the page through
// textContent, never parsed as HTML, so a customer's name or text can not inject markup.
"use strict";

// Every pt-BR label of the page, in one place (the Python adapters word their own texts).
const TEXTS = {
  title: "Conversas ativas",
  youAre: "Você:",
  change: "trocar",
  empty: "Nenhuma conversa ativa no momento.",
  save: "Salvar",
  enter: "Entrar",
  close: "Fechar",
  attendantTitle: "Quem está atendendo?",
  attendantHelp: "Seu identificador fica guardado neste navegador.",
  attendantLabel: "Seu e-mail ou identificador",
  tokenTitle: "Token de acesso",
  tokenLabel: "Token da API (HANDOFF_API_TOKEN)",
  tokenNeeded: "Este servidor exige um token de acesso. Digite-o para continuar.",
  tokenRejected: "Token inválido: o servidor recusou o token informado. Confira e digite de novo.",
  bannerAuth: "Acesso negado: token ausente ou inválido.",
  offline: "Sem conexão com o servidor; tentando de novo…",
  updatedAt: (time) => `Atualizado às ${time}`,
  summary: (waiting, human, agent) =>
    `${waiting} aguardando · ${human} com atendente · ${agent} com o bot`,
  modes: { agent: "Com o bot", human: "Com atendente", paused: "Aguardando atendente" },
  holderNone: "Ninguém assumiu",
  you: "você",
  waiting: (d) => `Aguardando há ${d}`,
  answered: "Respondido",
  noText: "(sem mensagem)",
  takeover: "Assumir",
  release: "Liberar",
  history: "Histórico",
  historyTitle: (who) => `Histórico · ${who}`,
  loading: "Carregando…",
  historyEmpty: "Nenhum evento registrado.",
  actionFailed: "Falha de conexão; tente de novo.",
  by: (actor) => `por ${actor}`,
  via: (source) => `via ${source}`,
  events: {
    escalation_requested: "Cliente pediu um atendente",
    takeover: "Assumida",
    release: "Devolvida ao bot",
    auto_release: "Devolvida ao bot por inatividade",
    pause: "Pausada, aguardando atendente",
    holding_message: "Mensagem de espera enviada",
    holding_skipped: "Mensagem de espera não enviada",
    reminder: "Lembrete ao atendente",
  },
  page: (step) => `Plantão acionado (etapa ${step})`,
  sources: {
    rest: "painel/API", cli: "CLI", slack: "Slack", whatsapp: "WhatsApp", monitor: "monitor",
  },
};

const ICONS = { agent: "🤖", human: "👤", paused: "⏸️" };
const POLL_MS = 3000;
const NOTE_MS = { ok: 6000, error: 30000 };
const STORE = { attendant: "handoff.attendant", token: "handoff.token" };

const state = {
  attendant: localStorage.getItem(STORE.attendant) || "",
  token: localStorage.getItem(STORE.token) || "",
  sessions: [],
  notes: new Map(), // phone -> {text, kind, until}
  busy: new Set(), // phones with an action in flight
  clockOffset: 0, // server clock minus ours, from the Date header
  blocked: false, // waiting for a token
  loaded: false, // the list came from the server at least once since the last 401
  loading: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

class AuthError extends Error {}

// --- talking to the server -------------------------------------------------------------

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const date = Date.parse(resp.headers.get("Date") || "");
  if (!Number.isNaN(date)) state.clockOffset = date - Date.now();
  if (resp.status === 401) {
    askToken(state.token ? TEXTS.tokenRejected : TEXTS.tokenNeeded);
    throw new AuthError();
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  return { status: resp.status, data };
}

async function refresh() {
  if (!state.attendant || state.blocked || state.loading) return;
  state.loading = true;
  try {
    const { status, data } = await api("GET", "/sessions/active");
    if (status !== 200 || !data || !Array.isArray(data.sessions)) throw new Error(String(status));
    state.sessions = data.sessions;
    state.loaded = true;
    showBanner(null);
    setStatus(TEXTS.updatedAt(new Date().toLocaleTimeString("pt-BR")), false);
    render();
  } catch (err) {
    if (!(err instanceof AuthError)) setStatus(TEXTS.offline, true);
  } finally {
    state.loading = false;
  }
}

async function act(phone, action) {
  state.busy.add(phone);
  render();
  try {
    const path = `/session/${encodeURIComponent(phone)}/${action}`;
    const { data } = await api("POST", path, { attendant_id: state.attendant });
    const text = (data && (data.message || data.error)) || TEXTS.actionFailed;
    note(phone, text, data && data.success ? "ok" : "error");
    if (data && data.session) {
      state.sessions = state.sessions.map((s) => (s.phone === phone ? data.session : s));
    }
  } catch (err) {
    if (!(err instanceof AuthError)) note(phone, TEXTS.actionFailed, "error");
  } finally {
    state.busy.delete(phone);
    render();
  }
  refresh();
}

function note(phone, text, kind) {
  state.notes.set(phone, { text, kind, until: Date.now() + NOTE_MS[kind] });
}

// --- time --------------------------------------------------------------------------------

// The API's times are UTC without an offset; read them as UTC.
function parseUtc(value) {
  if (!value) return null;
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(value);
  const ms = Date.parse(hasZone ? value : `${value}Z`);
  return Number.isNaN(ms) ? null : ms;
}

const serverNow = () => Date.now() + state.clockOffset;

// Since when the customer waits for an answer from a person; null when nobody owes one.
function waitingSince(s) {
  if (s.mode === "agent") return null;
  const customer = parseUtc(s.last_customer_message);
  if (customer === null) return s.mode === "paused" ? parseUtc(s.paused_at) : null;
  const human = parseUtc(s.last_human_message);
  return human !== null && human >= customer ? null : customer;
}

function duration(ms) {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${String(min % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

// Colour steps: fresh, over a minute, over ten (the default paging threshold).
function urgency(ms) {
  if (ms >= 600000) return "late";
  if (ms >= 60000) return "slow";
  return "fresh";
}

function tick() {
  const now = serverNow();
  for (const node of document.querySelectorAll(".wait[data-since]")) {
    const waited = now - Number(node.dataset.since);
    node.textContent = TEXTS.waiting(duration(waited));
    node.dataset.urgency = urgency(waited);
  }
  let expired = false;
  for (const [phone, n] of state.notes) {
    if (n.until < Date.now()) {
      state.notes.delete(phone);
      expired = true;
    }
  }
  if (expired) render();
}

// --- rendering ---------------------------------------------------------------------------

function formatPhone(phone) {
  const br = /^55(\d{2})(\d{4,5})(\d{4})$/.exec(phone);
  if (br) return `+55 (${br[1]}) ${br[2]}-${br[3]}`;
  return /^\d+$/.test(phone) ? `+${phone}` : phone;
}

function displayName(s) {
  const name = s.metadata && typeof s.metadata.profile_name === "string"
    ? s.metadata.profile_name.trim() : "";
  return name || formatPhone(s.phone);
}

// Waiting customers first, the longest wait on top; the rest keep the server's order.
function ordered(sessions) {
  return sessions
    .map((s, i) => ({ s, i, since: waitingSince(s) }))
    .sort((a, b) => {
      if ((a.since === null) !== (b.since === null)) return a.since === null ? 1 : -1;
      if (a.since !== null && a.since !== b.since) return a.since - b.since;
      return a.i - b.i;
    });
}

function buildCard({ s, since }, signature) {
  const me = state.attendant;
  const mine = s.mode === "human" && s.human_attendant === me;
  const li = el("li", `card mode-${s.mode}`);
  li.dataset.phone = s.phone;
  li.dataset.sig = signature;
  li.dataset.mode = s.mode;
  if (mine) li.classList.add("mine");

  const icon = el("span", "icon", ICONS[s.mode] || "❓");
  icon.title = TEXTS.modes[s.mode] || s.mode;
  icon.setAttribute("role", "img");
  icon.setAttribute("aria-label", icon.title);

  const who = el("button", "who");
  who.type = "button";
  who.title = TEXTS.history;
  const named = displayName(s) !== formatPhone(s.phone);
  who.append(el("span", named ? "name" : "name phone-only", displayName(s)));
  if (named) who.append(el("span", "phone", formatPhone(s.phone)));

  const holder = el("div", "holder");
  if (s.human_attendant) {
    holder.append(el("span", "holder-name", s.human_attendant));
    if (mine) holder.append(el("span", "tag", TEXTS.you));
  } else {
    holder.textContent = s.mode === "agent" ? TEXTS.modes.agent : TEXTS.holderNone;
    holder.classList.add("muted");
  }

  const wait = el("div", "wait");
  if (since !== null) {
    wait.dataset.since = String(since);
    const waited = serverNow() - since;
    wait.textContent = TEXTS.waiting(duration(waited));
    wait.dataset.urgency = urgency(waited);
  } else {
    wait.textContent = s.mode === "agent" ? "" : TEXTS.answered;
    wait.classList.add("muted");
  }

  const text = el("p", "text", s.last_customer_text || TEXTS.noText);
  if (!s.last_customer_text) text.classList.add("muted");

  const actions = el("div", "actions");
  const busy = state.busy.has(s.phone);
  const canTake = s.mode === "agent" || s.mode === "paused" || (s.mode === "human" && !mine);
  const canRelease = mine || s.mode === "paused";
  if (canTake) actions.append(actionButton(s.phone, "takeover", TEXTS.takeover, busy));
  if (canRelease) actions.append(actionButton(s.phone, "release", TEXTS.release, busy));

  const meta = el("div", "meta");
  meta.append(holder, wait);
  li.append(icon, who, meta, text, actions);
  const n = state.notes.get(s.phone);
  if (n) {
    const p = el("p", `note note-${n.kind}`, n.text);
    p.setAttribute("role", n.kind === "error" ? "alert" : "status");
    li.append(p);
  }
  return li;
}

function actionButton(phone, action, label, busy) {
  const b = el("button", `action ${action}`, label);
  b.type = "button";
  b.dataset.action = action;
  b.disabled = busy;
  b.addEventListener("click", (ev) => {
    ev.stopPropagation();
    act(phone, action);
  });
  return b;
}

// Rebuild only the cards whose data changed, so focus and scroll survive each poll.
function render() {
  const list = $("sessions");
  const rows = ordered(state.sessions);
  const old = new Map([...list.children].map((li) => [li.dataset.phone, li]));
  const nodes = rows.map((row) => {
    const n = state.notes.get(row.s.phone);
    const sig = JSON.stringify([row.s, state.attendant, state.busy.has(row.s.phone),
      n ? [n.text, n.kind] : null]);
    const prev = old.get(row.s.phone);
    return prev && prev.dataset.sig === sig ? prev : buildCard(row, sig);
  });
  nodes.forEach((node, i) => {
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
  while (list.children.length > nodes.length) list.lastElementChild.remove();

  $("empty").hidden = !state.loaded || nodes.length > 0;
  if (!state.loaded) {
    $("summary").textContent = "";
    return;
  }
  const count = (m) => state.sessions.filter((s) => s.mode === m).length;
  const waiting = rows.filter((r) => r.since !== null).length;
  $("summary").textContent = TEXTS.summary(waiting, count("human"), count("agent"));
}

function setStatus(text, isError) {
  const node = $("status");
  node.textContent = text;
  node.classList.toggle("error", isError);
}

function showBanner(text) {
  const node = $("banner");
  node.hidden = !text;
  node.textContent = text || "";
}

// --- history -----------------------------------------------------------------------------

async function openHistory(phone) {
  const s = state.sessions.find((x) => x.phone === phone);
  $("history-title").textContent = TEXTS.historyTitle(s ? displayName(s) : formatPhone(phone));
  $("history-events").replaceChildren();
  $("history-state").textContent = TEXTS.loading;
  const dialog = $("history");
  dialog.dataset.phone = phone;
  if (!dialog.open) dialog.showModal();
  try {
    const { status, data } = await api("GET", `/session/${encodeURIComponent(phone)}/history`);
    if (dialog.dataset.phone !== phone) return;
    if (status !== 200 || !data || !Array.isArray(data.events)) {
      $("history-state").textContent = (data && data.error) || TEXTS.actionFailed;
      return;
    }
    const items = data.events.slice().reverse().map(historyItem);
    $("history-state").textContent = items.length ? "" : TEXTS.historyEmpty;
    $("history-events").replaceChildren(...items);
  } catch (err) {
    if (err instanceof AuthError) dialog.close();
    else $("history-state").textContent = TEXTS.actionFailed;
  }
}

function eventLabel(name) {
  const page = /^page_(\w+)$/.exec(name || "");
  if (page) return TEXTS.page(page[1]);
  return TEXTS.events[name] || name;
}

function historyItem(e) {
  const li = el("li", "event");
  const at = parseUtc(e.at);
  const time = el("time", "at", at === null ? e.at : new Date(at).toLocaleString("pt-BR"));
  if (at !== null) time.dateTime = new Date(at).toISOString();
  li.append(time, el("span", "what", eventLabel(e.event)));
  const details = [];
  if (e.actor) details.push(TEXTS.by(e.actor));
  if (e.source) details.push(TEXTS.via(TEXTS.sources[e.source] || e.source));
  if (details.length) li.append(el("span", "detail", details.join(" · ")));
  return li;
}

// --- who is acting, and the token -------------------------------------------------------

function setAttendant(id) {
  state.attendant = id;
  localStorage.setItem(STORE.attendant, id);
  $("me-name").textContent = id;
  render();
}

function askAttendant() {
  const input = $("attendant-input");
  input.value = state.attendant;
  const dialog = $("ask-attendant");
  if (!dialog.open) dialog.showModal();
  input.focus();
}

function askToken(reason) {
  state.blocked = true;
  // What was shown came with a token the server no longer takes: hide it until a good one.
  state.loaded = false;
  state.sessions = [];
  render();
  state.token = "";
  localStorage.removeItem(STORE.token);
  $("token-reason").textContent = reason;
  showBanner(TEXTS.bannerAuth);
  setStatus("", false);
  const input = $("token-input");
  input.value = "";
  const dialog = $("ask-token");
  if (!dialog.open) dialog.showModal();
  input.focus();
}

function wire() {
  for (const node of document.querySelectorAll("[data-t]")) {
    node.textContent = TEXTS[node.dataset.t];
  }
  document.title = `${TEXTS.title} · handoff`;

  $("attendant-form").addEventListener("submit", () => {
    const id = $("attendant-input").value.trim();
    if (!id) return;
    setAttendant(id);
    refresh();
  });
  $("token-form").addEventListener("submit", () => {
    const token = $("token-input").value.trim();
    if (!token) return;
    state.token = token;
    localStorage.setItem(STORE.token, token);
    state.blocked = false;
    showBanner(null);
    refresh();
  });
  // Without an id or a token the page can do nothing: Escape must not dismiss those asks.
  $("ask-attendant").addEventListener("cancel", (ev) => {
    if (!state.attendant) ev.preventDefault();
  });
  $("ask-token").addEventListener("cancel", (ev) => ev.preventDefault());

  $("me-change").addEventListener("click", askAttendant);
  $("history-close").addEventListener("click", () => $("history").close());
  $("history").addEventListener("click", (ev) => {
    if (ev.target === $("history")) $("history").close(); // a click on the backdrop
  });
  $("sessions").addEventListener("click", (ev) => {
    if (ev.target.closest(".actions")) return;
    const card = ev.target.closest("li.card");
    if (card) openHistory(card.dataset.phone);
  });
}

function start() {
  wire();
  const params = new URLSearchParams(location.search);
  const fromUrl = (params.get("attendant") || "").trim();
  if (fromUrl) {
    setAttendant(fromUrl);
    // Kept in the browser now; dropping it from the address lets "trocar" stick on reload.
    params.delete("attendant");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
  }
  $("me-name").textContent = state.attendant;
  if (!state.attendant) askAttendant();
  refresh();
  setInterval(refresh, POLL_MS);
  setInterval(tick, 1000);
}

document.addEventListener("DOMContentLoaded", start);
