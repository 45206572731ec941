// The attendants' page: polls GET /sessions/active every 3 s and acts through the REST API;
// GET /queue comes with each poll (places, offers, the team's load, opening hours). A click on
// a conversation opens its panel, which polls GET /session/{phone}/messages too.
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
  openConversation: "Ver conversa",
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
  // The conversation panel.
  conversationTitle: (who) => `Conversa · ${who}`,
  messagesLabel: "Mensagens da conversa",
  loadOlder: "Carregar anteriores",
  newMessages: "Novas mensagens ↓",
  conversationEmpty: "Nenhuma mensagem registrada ainda.",
  conversationGone: "Esta conversa não existe mais (encerrada ou removida).",
  conversationFailed: "Não foi possível carregar a conversa; tentando de novo…",
  olderFailed: "Não foi possível carregar as mensagens anteriores; tente de novo.",
  senders: {
    customer: (name) => (name ? `Cliente · ${name}` : "Cliente"),
    agent: "Bot",
    human: "Atendente",
    note: (who) => (who ? `Nota interna · ${who}` : "Nota interna"),
    template: (who) => (who ? `Modelo · ${who}` : "Modelo"),
  },
  attachment: "anexo",
  mediaKinds: {
    image: "imagem", audio: "áudio", voice: "áudio", video: "vídeo", document: "documento",
    sticker: "figurinha", file: "arquivo",
  },
  emptyText: "(sem texto)",
  // Routing (GET /queue): the queue, offers, the team and opening hours.
  place: (n) => `${n}º da fila`,
  closedTag: "fora do horário",
  offered: (who) => `Oferecida a ${who}`,
  offeredSilent: (who) => `Sem resposta do atendente: oferecida a ${who}`,
  expiresIn: (d) => `expira em ${d}`,
  closed: (when) => (when
    ? `Fora do horário de atendimento — voltamos ${when}`
    : "Fora do horário de atendimento"),
  back: {
    today: (time) => `hoje às ${time}`,
    tomorrow: (time) => `amanhã às ${time}`,
    weekday: (day, weekend, time) => `${weekend ? "no" : "na"} ${day} às ${time}`,
    date: (date, time) => `em ${date} às ${time}`,
  },
  team: "Equipe",
  load: (held, offered, max) => {
    const count = max === null ? `${held}` : `${held}/${max}`;
    if (!offered) return count;
    return `${count} (+${offered} ${offered === 1 ? "oferecida" : "oferecidas"})`;
  },
  loadTitle: (held, offered, max) => [
    `${held} ${held === 1 ? "conversa" : "conversas"} em atendimento`,
    offered ? `${offered} ${offered === 1 ? "oferecida" : "oferecidas"}` : "",
    max === null ? "" : `limite de ${max}`,
  ].filter(Boolean).join(", "),
  presence: { true: "no Slack", false: "ausente" },
};

const ICONS = { agent: "🤖", human: "👤", paused: "⏸️" };
const POLL_MS = 3000;
const NOTE_MS = { ok: 6000, error: 30000 };
const STORE = { attendant: "handoff.attendant", token: "handoff.token" };
const PAGE = 50; // messages per page of the conversation panel
const NEAR_BOTTOM_PX = 48; // this close to the end counts as "reading the latest"

const state = {
  attendant: localStorage.getItem(STORE.attendant) || "",
  token: localStorage.getItem(STORE.token) || "",
  sessions: [],
  notes: new Map(), // phone -> {text, kind, until}
  busy: new Set(), // phones with an action in flight
  queue: null, // routing from GET /queue, as readQueue() keeps it; null when not known
  clockOffset: 0, // server clock minus ours, from the Date header
  blocked: false, // waiting for a token
  loaded: false, // the list came from the server at least once since the last 401
  loading: false,
};

// The open conversation panel (one at a time).
const conv = {
  phone: null,
  name: "", // the customer's WhatsApp name, remembered if the session leaves the list
  messages: [], // newest last, by id
  before: null, // `before` for the page older than the oldest shown; null when none
  gen: 0, // bumped when the panel changes conversation or closes: late answers are dropped
  epoch: 0, // bumped when the shown messages are replaced wholesale
  fetching: false,
  older: false, // "Carregar anteriores" in flight
  loaded: false, // the first page arrived (then the view starts at the bottom)
  unseen: false, // new messages arrived while the user was reading further up
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

// `quiet`: a 401 is only returned, not asked about (the list's own call does that).
async function api(method, path, body, { quiet = false } = {}) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const date = Date.parse(resp.headers.get("Date") || "");
  if (!Number.isNaN(date)) state.clockOffset = date - Date.now();
  if (resp.status === 401 && !quiet) {
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
    const routing = loadQueue(); // alongside the list; it never fails
    const { status, data } = await api("GET", "/sessions/active");
    if (status !== 200 || !data || !Array.isArray(data.sessions)) throw new Error(String(status));
    state.sessions = data.sessions;
    state.queue = await routing;
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

// Routing is extra: when GET /queue fails (or the server has none) it is left out, quietly.
async function loadQueue() {
  try {
    const { status, data } = await api("GET", "/queue", undefined, { quiet: true });
    return status === 200 ? readQueue(data) : null;
  } catch {
    return null;
  }
}

// What the page uses of GET /queue; anything malformed from the server is skipped.
function readQueue(data) {
  if (!data || !Array.isArray(data.waiting) || !Array.isArray(data.attendants)) return null;
  const waiting = new Map();
  for (const w of data.waiting) {
    if (!w || typeof w.phone !== "string" || !Number.isInteger(w.place)) continue;
    const offer = w.offer && typeof w.offer.attendant === "string" ? w.offer : null;
    waiting.set(w.phone, {
      place: w.place,
      offer: offer && {
        attendant: offer.attendant,
        silent: offer.reason === "silent",
        expires: parseUtc(typeof offer.expires_at === "string" ? offer.expires_at : null),
      },
    });
  }
  // A silent holder's conversation on offer to someone else shows on its held card.
  for (const o of Array.isArray(data.offers) ? data.offers : []) {
    if (!o || typeof o.phone !== "string" || typeof o.attendant !== "string") continue;
    if (o.reason !== "silent" || waiting.has(o.phone)) continue;
    waiting.set(o.phone, {
      place: null,
      offer: {
        attendant: o.attendant,
        silent: true,
        expires: parseUtc(typeof o.expires_at === "string" ? o.expires_at : null),
      },
    });
  }
  const count = (n) => (Number.isInteger(n) && n > 0 ? n : 0);
  return {
    open: data.open !== false,
    opensAt: parseUtc(typeof data.opens_at === "string" ? data.opens_at : null),
    max: Number.isInteger(data.max_conversations) ? data.max_conversations : null,
    waiting, // phone -> {place (null: held, a silent offer), offer}
    team: data.attendants
      .filter((a) => a && typeof a.attendant === "string")
      .map((a) => ({
        id: a.attendant,
        held: count(a.holding),
        offered: count(a.offered),
        present: typeof a.present === "boolean" ? a.present : null,
      })),
  };
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
  // Waiting for a person: since asking, however often they write meanwhile (the queue's order).
  if (s.mode === "paused") return parseUtc(s.paused_at) ?? parseUtc(s.last_customer_message);
  const customer = parseUtc(s.last_customer_message);
  if (customer === null) return s.mode === "paused" ? parseUtc(s.paused_at) : null;
  const human = parseUtc(s.last_human_message);
  if (human === null || human < customer) return customer;
  // Within one millisecond the ISO strings (same format) still tell which came last.
  return human > customer || s.last_human_message >= s.last_customer_message ? null : customer;
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

// When the team is back, as the customer is told: "amanhã às 08:00", "na segunda-feira às
// 08:00"; in this browser's time zone.
function whenBack(ms) {
  const at = new Date(ms);
  const now = new Date(serverNow());
  const time = at.toLocaleTimeString("pt-BR", { hour: "2-digit", minute: "2-digit" });
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((midnight(at) - midnight(now)) / 86400000);
  if (days <= 0) return TEXTS.back.today(time);
  if (days === 1) return TEXTS.back.tomorrow(time);
  if (days < 7) {
    const day = new Intl.DateTimeFormat("pt-BR", { weekday: "long" }).format(at);
    return TEXTS.back.weekday(day, at.getDay() === 0 || at.getDay() === 6, time);
  }
  return TEXTS.back.date(at.toLocaleDateString("pt-BR", { day: "2-digit", month: "2-digit" }),
    time);
}

function tick() {
  const now = serverNow();
  for (const node of document.querySelectorAll(".wait[data-since]")) {
    const waited = now - Number(node.dataset.since);
    node.textContent = TEXTS.waiting(duration(waited));
    node.dataset.urgency = urgency(waited);
  }
  for (const node of document.querySelectorAll(".expires[data-until]")) {
    node.textContent = TEXTS.expiresIn(duration(Number(node.dataset.until) - now));
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
    .map((s, i) => ({ s, i, since: waitingSince(s), route: routeOf(s.phone) }))
    .sort((a, b) => {
      if ((a.since === null) !== (b.since === null)) return a.since === null ? 1 : -1;
      if (a.since !== null && a.since !== b.since) return a.since - b.since;
      return a.i - b.i;
    });
}

// A waiting customer's place, whom it is on offer to, and whether the team is closed.
function routeOf(phone) {
  const q = state.queue;
  const w = q && q.waiting.get(phone);
  return w ? { ...w, closed: !q.open } : null;
}

function buildCard({ s, since, route }, signature) {
  const me = state.attendant;
  const mine = s.mode === "human" && s.human_attendant === me;
  const li = el("li", `card mode-${s.mode}`);
  li.dataset.phone = s.phone;
  li.dataset.sig = signature;
  li.dataset.mode = s.mode;
  if (mine) li.classList.add("mine");
  const open = conv.phone === s.phone;
  if (open) li.classList.add("selected");

  const icon = el("span", "icon", ICONS[s.mode] || "❓");
  icon.title = TEXTS.modes[s.mode] || s.mode;
  icon.setAttribute("role", "img");
  icon.setAttribute("aria-label", icon.title);

  const who = el("button", "who");
  who.type = "button";
  who.title = TEXTS.openConversation;
  who.setAttribute("aria-controls", "conversation");
  who.setAttribute("aria-expanded", String(open));
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
  li.append(icon, who, meta);
  if (route) {
    li.classList.add("routed");
    li.append(routeLine(route));
  }
  li.append(text, actions);
  const n = state.notes.get(s.phone);
  if (n) {
    const p = el("p", `note note-${n.kind}`, n.text);
    p.setAttribute("role", n.kind === "error" ? "alert" : "status");
    li.append(p);
  }
  return li;
}

// "1º da fila", "fora do horário", "Oferecida a … · expira em 42 s".
function routeLine({ place, offer, closed }) {
  const line = el("p", "route");
  if (place !== null) {
    line.append(el("span", "place", TEXTS.place(place)));
    if (closed) line.append(el("span", "off-hours", TEXTS.closedTag));
  }
  if (offer) {
    const who = (offer.silent ? TEXTS.offeredSilent : TEXTS.offered)(offer.attendant);
    const span = el("span", "offer", who);
    if (offer.expires !== null) {
      // Counted down by tick().
      const left = el("span", "expires", TEXTS.expiresIn(duration(offer.expires - serverNow())));
      left.dataset.until = String(offer.expires);
      span.append(" · ", left);
    }
    line.append(span);
  }
  return line;
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
    const sig = JSON.stringify([row.s, row.route, state.attendant, state.busy.has(row.s.phone),
      n ? [n.text, n.kind] : null, conv.phone === row.s.phone]);
    const prev = old.get(row.s.phone);
    return prev && prev.dataset.sig === sig ? prev : buildCard(row, sig);
  });
  nodes.forEach((node, i) => {
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
  while (list.children.length > nodes.length) list.lastElementChild.remove();

  $("empty").hidden = !state.loaded || nodes.length > 0;
  renderRouting();
  renderConversationHead();
  if (!state.loaded) {
    $("summary").textContent = "";
    return;
  }
  const count = (m) => state.sessions.filter((s) => s.mode === m).length;
  const waiting = rows.filter((r) => r.since !== null).length;
  $("summary").textContent = TEXTS.summary(waiting, count("human"), count("agent"));
}

// The closed-hours banner and the team's load, from GET /queue.
function renderRouting() {
  const q = state.loaded ? state.queue : null;
  const hours = $("hours");
  const closed = q && !q.open ? TEXTS.closed(q.opensAt === null ? "" : whenBack(q.opensAt)) : "";
  if (hours.textContent !== closed) hours.textContent = closed;
  hours.hidden = !closed;

  const team = q ? q.team : [];
  const section = $("team");
  section.hidden = team.length === 0;
  const sig = JSON.stringify([team, q && q.max, state.attendant]);
  if (section.dataset.sig === sig) return;
  section.dataset.sig = sig;
  $("team-list").replaceChildren(...team.map((a) => memberItem(a, q.max)));
}

// "ana@empresa.com — 2/5 (+1 oferecida)", with a dot when Slack says whether they are there.
function memberItem({ id, held, offered, present }, max) {
  const li = el("li", "member");
  if (max !== null && held + offered >= max) li.classList.add("full");
  if (present !== null) {
    li.dataset.present = String(present);
    const dot = el("span", "dot");
    dot.setAttribute("aria-hidden", "true");
    li.append(dot);
  }
  const load = el("span", "member-load", TEXTS.load(held, offered, max));
  load.title = TEXTS.loadTitle(held, offered, max);
  li.append(el("span", "member-name", id), " — ", load);
  if (present !== null) li.append(el("span", "presence", TEXTS.presence[present]));
  if (id === state.attendant) li.append(el("span", "tag", TEXTS.you));
  return li;
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

// --- the conversation panel --------------------------------------------------------------

function messagesPath(phone, before) {
  const query = before === null || before === undefined ? "" : `&before=${before}`;
  return `/session/${encodeURIComponent(phone)}/messages?limit=${PAGE}${query}`;
}

// Only well-formed lines reach the page; anything else from the server is skipped.
function lines(data) {
  if (!data || !Array.isArray(data.messages)) return null;
  return data.messages.filter((m) => m && typeof m === "object" && Number.isInteger(m.id));
}

const cursor = (data) => (Number.isInteger(data.next_before) ? data.next_before : null);

// `focus`: opened from the keyboard, so the reader is taken to the panel's heading.
function openConversation(phone, { focus = false } = {}) {
  if (conv.phone !== phone) {
    resetConversation();
    conv.phone = phone;
    conv.name = "";
    setConversationState(TEXTS.loading, false);
  }
  $("conversation").hidden = false;
  $("layout").classList.add("with-panel");
  document.body.classList.add("with-panel");
  render();
  renderConversation();
  if (focus) $("conv-title").focus({ preventScroll: true });
  // Below the list on a narrow screen: bring it into view.
  if (!window.matchMedia("(min-width: 960px)").matches) {
    $("conversation").scrollIntoView({ block: "start" });
  }
  loadLatest();
}

function closeConversation() {
  const phone = conv.phone;
  resetConversation();
  conv.phone = null;
  $("conversation").hidden = true;
  $("layout").classList.remove("with-panel");
  document.body.classList.remove("with-panel");
  render();
  const card = phone && document.querySelector(`li.card[data-phone="${CSS.escape(phone)}"] .who`);
  if (card) card.focus();
}

// Forget what is shown (another conversation, or a token the server no longer takes).
function resetConversation() {
  conv.gen += 1;
  conv.epoch += 1;
  conv.messages = [];
  conv.before = null;
  conv.fetching = false;
  conv.older = false;
  conv.loaded = false;
  conv.unseen = false;
  setConversationState("", false);
  renderConversation();
}

function setConversationState(text, isError) {
  const node = $("conv-state");
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
}

// The newest page: new lines are appended; what the user loaded further back is kept.
async function loadLatest() {
  const phone = conv.phone;
  if (!phone || conv.fetching || state.blocked) return;
  const gen = conv.gen;
  conv.fetching = true;
  try {
    const { status, data } = await api("GET", messagesPath(phone));
    if (gen !== conv.gen) return;
    if (status === 404) {
      conv.epoch += 1;
      conv.messages = [];
      conv.before = null;
      conv.loaded = true;
      setConversationState(TEXTS.conversationGone, true);
      renderConversation();
      return;
    }
    const page = status === 200 ? lines(data) : null;
    if (page === null) {
      setConversationState((data && data.error) || TEXTS.conversationFailed, true);
      return;
    }
    mergeLatest(page, cursor(data));
    setConversationState(conv.messages.length ? "" : TEXTS.conversationEmpty, false);
    renderConversation();
    conv.loaded = true;
  } catch (err) {
    if (gen === conv.gen && !(err instanceof AuthError)) {
      setConversationState(TEXTS.conversationFailed, true);
    }
  } finally {
    if (gen === conv.gen) conv.fetching = false;
  }
}

function mergeLatest(page, before) {
  const old = conv.messages;
  const lastOld = old.length ? old[old.length - 1].id : null;
  const first = page.length ? page[0].id : null;
  const last = page.length ? page[page.length - 1].id : null;
  // Nothing shown yet, more new lines than a page (a gap), or a transcript that starts over.
  if (lastOld === null || first === null || first > lastOld + 1 || last < lastOld) {
    conv.epoch += 1;
    conv.messages = page;
    conv.before = before;
    return;
  }
  conv.messages = [...old.filter((m) => m.id < first), ...page];
}

async function loadOlder() {
  const { phone, before, gen, epoch } = conv;
  if (!phone || before === null || conv.older) return;
  conv.older = true;
  renderOlderButton();
  try {
    const { status, data } = await api("GET", messagesPath(phone, before));
    if (gen !== conv.gen || epoch !== conv.epoch) return;
    if (status === 404) {
      setConversationState(TEXTS.conversationGone, true);
      return;
    }
    const page = status === 200 ? lines(data) : null;
    if (page === null) {
      setConversationState((data && data.error) || TEXTS.olderFailed, true);
      return;
    }
    const oldest = conv.messages.length ? conv.messages[0].id : Infinity;
    conv.messages = [...page.filter((m) => m.id < oldest), ...conv.messages];
    conv.before = cursor(data);
    setConversationState("", false);
    renderConversation({ older: true });
  } catch (err) {
    if (gen === conv.gen && !(err instanceof AuthError)) {
      setConversationState(TEXTS.olderFailed, true);
    }
  } finally {
    if (gen === conv.gen) {
      conv.older = false;
      renderOlderButton();
    }
  }
}

function profileName(s) {
  return s && s.metadata && typeof s.metadata.profile_name === "string"
    ? s.metadata.profile_name.trim() : "";
}

function renderConversationHead() {
  if (!conv.phone) return;
  const s = state.sessions.find((x) => x.phone === conv.phone);
  if (s) conv.name = profileName(s);
  const title = TEXTS.conversationTitle(conv.name || formatPhone(conv.phone));
  if ($("conv-title").textContent !== title) $("conv-title").textContent = title;
  const sub = [];
  if (conv.name) sub.push(formatPhone(conv.phone));
  if (s) {
    sub.push(TEXTS.modes[s.mode] || s.mode);
    if (s.human_attendant) sub.push(s.human_attendant);
  }
  const node = $("conv-sub");
  if (node.dataset.sig !== JSON.stringify(sub)) {
    node.dataset.sig = JSON.stringify(sub);
    // Each part whole on its line; the separators are where the line may break.
    const parts = sub.map((part) => el("span", "", part));
    node.replaceChildren(...parts.flatMap((span, i) => (i ? [" · ", span] : [span])));
  }
  // The customer's label carries the name: redraw the lines if it changed.
  renderConversation();
}

function senderLabel(m) {
  switch (m.sender) {
    case "customer": return TEXTS.senders.customer(conv.name);
    case "agent": return TEXTS.senders.agent;
    case "human": return m.attendant || TEXTS.senders.human;
    case "note": return TEXTS.senders.note(m.attendant);
    case "template": return TEXTS.senders.template(m.attendant);
    default: return String(m.sender || "?");
  }
}

const SENDER_CLASS = {
  customer: "customer", agent: "agent", human: "human", note: "note", template: "human",
};

// HH:MM today; with the date (and the year, if not this one) otherwise.
function shortTime(ms, now) {
  const d = new Date(ms);
  const hm = d.toLocaleTimeString("pt-BR", { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === now.toDateString()) return hm;
  const opts = { day: "2-digit", month: "2-digit" };
  if (d.getFullYear() !== now.getFullYear()) opts.year = "numeric";
  return `${d.toLocaleDateString("pt-BR", opts)} ${hm}`;
}

function mediaLabel(media) {
  const kind = typeof media.kind === "string" ? media.kind
    : typeof media.type === "string" ? media.type : "";
  const parts = [kind ? TEXTS.mediaKinds[kind] || kind : TEXTS.attachment];
  if (typeof media.filename === "string" && media.filename) parts.push(media.filename);
  return `📎 ${parts.join(" · ")}`;
}

function messageItem(m, sig, now) {
  const li = el("li", `msg msg-${SENDER_CLASS[m.sender] || "other"}`);
  li.dataset.id = String(m.id);
  li.dataset.sender = String(m.sender ?? "");
  li.dataset.sig = sig;
  const head = el("p", "msg-head");
  head.append(el("span", "msg-who", senderLabel(m)));
  const at = parseUtc(m.at);
  const time = el("time", "msg-at", at === null ? m.at || "" : shortTime(at, now));
  if (at !== null) {
    time.dateTime = new Date(at).toISOString();
    time.title = new Date(at).toLocaleString("pt-BR");
  }
  head.append(time);
  li.append(head);
  const media = m.media && typeof m.media === "object" ? m.media : null;
  if (media) li.append(el("p", "msg-media", mediaLabel(media)));
  // A file's caption stands in for an empty text.
  const text = (typeof m.text === "string" && m.text)
    || (media && typeof media.caption === "string" ? media.caption : "");
  if (text) li.append(el("p", "msg-text", text));
  else if (!media) li.append(el("p", "msg-text muted", TEXTS.emptyText));
  return li;
}

function renderOlderButton() {
  const button = $("conv-older");
  button.hidden = conv.before === null;
  button.disabled = conv.older;
  button.textContent = conv.older ? TEXTS.loading : TEXTS.loadOlder;
}

const atBottom = (node) => node.scrollHeight - node.scrollTop - node.clientHeight < NEAR_BOTTOM_PX;

// Rebuild only the lines whose data changed, so a selection survives each poll. The view
// follows new lines when it was at the end (or on the first page), else it stays put and
// offers "Novas mensagens"; older lines are added above what the user is reading.
function renderConversation({ older = false } = {}) {
  const scroller = $("conv-scroll");
  const list = $("conv-messages");
  const follow = !conv.loaded || atBottom(scroller);
  const fromEnd = scroller.scrollHeight - scroller.scrollTop;
  const lastBefore = list.lastElementChild ? list.lastElementChild.dataset.id : null;

  const now = new Date();
  const today = now.toDateString();
  const old = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const nodes = conv.messages.map((m) => {
    const sig = JSON.stringify([m, senderLabel(m), today]);
    const prev = old.get(String(m.id));
    return prev && prev.dataset.sig === sig ? prev : messageItem(m, sig, now);
  });
  nodes.forEach((node, i) => {
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
  while (list.children.length > nodes.length) list.lastElementChild.remove();
  renderOlderButton();

  const lastAfter = list.lastElementChild ? list.lastElementChild.dataset.id : null;
  if (older) {
    scroller.scrollTop = scroller.scrollHeight - fromEnd;
  } else if (follow) {
    scroller.scrollTop = scroller.scrollHeight;
    conv.unseen = false;
  } else if (lastAfter !== lastBefore && lastAfter !== null) {
    conv.unseen = true;
  }
  if (!conv.messages.length) conv.unseen = false;
  $("conv-jump").hidden = !conv.unseen;
}

function jumpToLatest() {
  const scroller = $("conv-scroll");
  scroller.scrollTop = scroller.scrollHeight;
  conv.unseen = false;
  $("conv-jump").hidden = true;
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
  state.queue = null;
  resetConversation();
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
  $("conv-messages").setAttribute("aria-label", TEXTS.messagesLabel);
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
    loadLatest();
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
    // A button pressed from the keyboard clicks with `detail` 0.
    if (card) openConversation(card.dataset.phone, { focus: ev.detail === 0 });
  });

  $("conv-close").addEventListener("click", closeConversation);
  $("conv-history").addEventListener("click", () => {
    if (conv.phone) openHistory(conv.phone);
  });
  $("conv-older").addEventListener("click", loadOlder);
  $("conv-jump").addEventListener("click", jumpToLatest);
  $("conv-scroll").addEventListener("scroll", () => {
    if (conv.unseen && atBottom($("conv-scroll"))) jumpToLatest();
  }, { passive: true });
  $("conversation").addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !document.querySelector("dialog[open]")) closeConversation();
  });
  // The panel sticks below the header, whose height depends on the screen's width.
  const top = document.querySelector(".top");
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--header-h", `${top.offsetHeight}px`);
  }).observe(top);
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
  setInterval(() => {
    refresh();
    loadLatest();
  }, POLL_MS);
  setInterval(tick, 1000);
}

document.addEventListener("DOMContentLoaded", start);
