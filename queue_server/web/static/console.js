// 窗口叫号 console: renders snapshots pushed by the server (server-sent events) and sends the
// clerk's actions. One action at a time: while a request is in flight every button is disabled,
// and the server refuses a second call while the window has a current ticket, so a double click
// never calls two tickets. EventSource reconnects by itself after a network blip; its first
// message after reconnecting is a full snapshot.
(function () {
  "use strict";
  const app = document.getElementById("app");
  const WINDOW = app.dataset.window;
  const ADMIN = app.dataset.role === "admin";
  const M = JSON.parse(document.getElementById("messages").textContent);
  const $ = (id) => document.getElementById(id);
  const q = ADMIN ? "?window=" + encodeURIComponent(WINDOW) : "";
  let state = null;
  let receivedAt = 0;
  let busy = false;
  let es = null;
  let retryTimer = null;

  const toast = YZ.toast;

  function fmtDuration(s) {
    if (s == null || s < 0) return "—";
    s = Math.floor(s);
    const m = Math.floor(s / 60), r = s % 60;
    return m + ":" + String(r).padStart(2, "0");
  }

  function serverNow() {
    return new Date(state.now).getTime() + (Date.now() - receivedAt);
  }

  function setConn(kind) {
    const el = $("conn");
    el.dataset.state = kind;
    el.textContent = M[kind];
  }

  function render(s) {
    state = s;
    receivedAt = Date.now();
    const w = s.window;
    $("window-state").textContent = M["wstate_" + w.state] + (w.pause_text ? " · " + w.pause_text : "");
    $("window-state").className = "badge state-" + w.state;
    document.body.dataset.windowState = w.state;
    const t = s.ticket;
    $("ticket-number").textContent = t ? t.number : "—";
    $("ticket-number").classList.toggle("empty", !t);
    $("ticket-service").textContent = t ? (t.masked_name ? t.masked_name + " · " : "") + t.service_name + "（" + t.queue + " " + t.queue_name + "）" : (w.state === "open" ? (s.waiting_total ? M.no_ticket : M.nobody) : M.open_first);
    $("ticket-state").textContent = t ? M["state_" + t.state] || t.state : "";
    $("ticket-waited").textContent = t ? fmtDuration(t.waited_s) : "—";
    $("ticket-recalls").textContent = t ? String(t.recall_count) : "—";
    $("ticket-class").textContent = t ? t.service_class + (t.promised_days ? "（" + t.promised_days + "个工作日）" : "") : "—";
    $("ticket-reason").textContent = t ? t.reason : "";
    $("ticket-reason").hidden = !(t && t.reason);
    $("ticket-print").hidden = !(t && t.print_failed);
    const pr = $("ticket-priority");
    pr.hidden = !(t && t.priority_label);
    pr.textContent = t ? t.priority_label : "";
    const mats = $("ticket-materials");
    mats.replaceChildren(...(t ? t.materials : []).map((m) => { const li = document.createElement("li"); li.textContent = m; return li; }));
    const docs = $("ticket-docs");
    const list = t ? t.documents : [];
    $("docs-head").hidden = !list.length;
    docs.replaceChildren(...list.map((d) => { const li = document.createElement("li"); li.textContent = d.filename + "（" + d.pages + "页）"; return li; }));
    $("waiting-total").textContent = s.waiting_total;
    $("queues").replaceChildren(...s.queues.map((x) => {
      const li = document.createElement("li");
      li.dataset.queue = x.id;
      li.innerHTML = "<b></b><span class='qname'></span><span class='count'></span><small></small>";
      li.children[0].textContent = x.id;
      li.children[1].textContent = x.name;
      li.children[2].textContent = x.waiting;
      li.children[3].textContent = x.open ? M.est + " " + Math.round(x.estimated_wait_s / 60) + M.minutes : M.closed_q;
      return li;
    }));
    $("served-today").textContent = s.served_today;
    $("skipped").replaceChildren(...(s.skipped.length ? s.skipped.map((x) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.className = "small";
      b.textContent = x.number + " · " + M.call_back;
      b.addEventListener("click", () => act("call", { ticket_id: x.id }));
      li.appendChild(b);
      return li;
    }) : [Object.assign(document.createElement("li"), { textContent: M.none, className: "muted" })]));
    $("pause-label").textContent = w.state === "open" ? M.pause : (w.state === "paused" ? M.resume : M.open);
    updateButtons();
    tick();
    document.dispatchEvent(new CustomEvent("yz:state", { detail: s }));  // cases.js (受理登记) follows the ticket at the desk
  }

  function updateButtons() {
    const s = state;
    const has = !!(s && s.ticket);
    const open = s && s.window.state === "open";
    const en = {
      "btn-call": open && !has,
      "btn-recall": has && s.ticket.state === "called",
      "btn-start": has && s.ticket.state === "called",
      "btn-skip": has && s.ticket.state === "called",
      "btn-transfer": has,
      "btn-finish": has,
      "btn-pause": !!s,
      "btn-close": !!s && !has && s.window.state !== "closed",
    };
    for (const id in en) $(id).disabled = busy || !en[id];
    $("btn-call").title = has ? M.busy_hint : (open ? "" : M.open_first);
  }

  function tick() {
    if (!state || !state.ticket || !state.ticket.called_at) { $("ticket-timer").textContent = "—"; return; }
    $("ticket-timer").textContent = fmtDuration((serverNow() - new Date(state.ticket.called_at).getTime()) / 1000);
  }
  setInterval(tick, 1000);

  async function refresh() {
    try {
      const r = await fetch("/console/state" + q, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return; }
      if (r.ok) render(await r.json());
    } catch (e) { /* the stream will bring the state when the network is back */ }
  }

  const MESSAGES = { "call-next": "called", call: "called", recall: "recalled", skip: "skipped", finish: "finished", transfer: "transferred", start: "started" };

  async function act(action, body) {
    if (busy) return;
    busy = true;
    updateButtons();
    try {
      const r = await YZ.call("POST", "/api/v1/windows/" + encodeURIComponent(WINDOW) + "/" + action, body);
      if (r.status === 204) {
        toast(M.nobody, "info");
      } else if (r.ok) {
        const number = r.data.ticket ? r.data.ticket.number : r.data.number;
        if (MESSAGES[action] && number) toast(M[MESSAGES[action]].replace("{number}", number), "ok");
      } else {
        toast((r.data && r.data.message) || M.network, "error");
      }
    } catch (e) {
      if (e.message === "login") return;
      toast(M.network, "error");
    } finally {
      busy = false;
      updateButtons();
      await refresh();
    }
  }

  // ---- transfer dialog --------------------------------------------------------------------
  const dlg = $("transfer-dialog");
  let chosenQueue = null;
  function openTransfer() {
    if (!state || !state.ticket || busy) return;
    chosenQueue = null;
    const box = $("transfer-queues");
    box.replaceChildren(...state.transfer_queues.map((x) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "queue-choice";
      b.dataset.queue = x.id;
      b.innerHTML = "<kbd></kbd> <span></span>";
      b.children[0].textContent = x.id;
      b.children[1].textContent = x.name;
      b.addEventListener("click", () => chooseQueue(x.id));
      return b;
    }));
    dlg.showModal();
  }
  function chooseQueue(id) {
    chosenQueue = id;
    for (const b of $("transfer-queues").children) b.classList.toggle("chosen", b.dataset.queue === id);
  }
  $("transfer-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!chosenQueue) { toast(M.choose_queue, "error"); return; }
    const position = new FormData($("transfer-form")).get("position");
    dlg.close();
    act("transfer", { queue: chosenQueue, position: position });
  });
  $("transfer-cancel").addEventListener("click", () => dlg.close());
  dlg.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); $("transfer-form").requestSubmit(); return; }
    const k = ev.key.toUpperCase();
    if (k === "F" || k === "L") { dlg.querySelector("input[value=" + (k === "F" ? "first" : "last") + "]").checked = true; ev.preventDefault(); return; }
    if (k.length === 1 && state.transfer_queues.some((x) => x.id === k)) { chooseQueue(k); ev.preventDefault(); }
  });

  // ---- pause dialog: why the window pauses (the manager sees it; the statistics sum it) -----
  const pauseDlg = $("pause-dialog");
  function pauseOrResume() {
    if (!state || busy) return;
    if (state.window.state !== "open") { act("open"); return; }
    pauseDlg.showModal();
    pauseDlg.querySelector("button[data-reason]").focus();
  }
  for (const b of pauseDlg.querySelectorAll("button[data-reason]")) {
    b.addEventListener("click", () => { pauseDlg.close(); act("pause", { reason: b.dataset.reason }); });
  }
  $("pause-cancel").addEventListener("click", () => pauseDlg.close());
  pauseDlg.addEventListener("keydown", (ev) => {
    const b = pauseDlg.querySelector("button[data-key='" + ev.key + "']");
    if (b) { ev.preventDefault(); b.click(); }
  });

  // ---- buttons and keys -------------------------------------------------------------------
  const keymap = {};
  const CLICK = { transfer: openTransfer, "pause-toggle": pauseOrResume };
  for (const b of document.querySelectorAll("button[data-action]")) {
    b.addEventListener("click", () => (CLICK[b.dataset.action] ? CLICK[b.dataset.action]() : act(b.dataset.action)));
    for (const k of b.dataset.keys.split(" ")) keymap[k] = b;
  }
  document.addEventListener("keydown", (ev) => {
    if (dlg.open || pauseDlg.open || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (ev.key === "8") {  // 重新叫号: the most recently skipped number is back at the window
      ev.preventDefault();
      if (!ev.repeat && state && state.skipped.length && !state.ticket && !busy) act("call", { ticket_id: state.skipped[0].id });
      return;
    }
    const b = keymap[ev.key.toLowerCase()];
    if (!b) return;
    ev.preventDefault();
    if (ev.repeat || b.disabled) return;  // a held key is one press
    b.click();
  });

  // ---- live updates -----------------------------------------------------------------------
  function connect() {
    clearTimeout(retryTimer);
    if (es) es.close();
    setConn(state ? "offline" : "connecting");
    es = new EventSource("/console/events" + q);
    es.addEventListener("open", () => setConn("live"));
    es.addEventListener("state", (ev) => { setConn("live"); render(JSON.parse(ev.data)); });
    es.addEventListener("logout", () => { es.close(); location.href = "/login"; });
    es.addEventListener("error", () => {
      setConn("offline");
      if (es.readyState === EventSource.CLOSED) {
        // The server answered with an error (restarting, or the session ended): check, then retry.
        retryTimer = setTimeout(async () => {
          try {
            const r = await fetch("/console/state" + q, { cache: "no-store" });
            if (r.status === 401) { location.href = "/login"; return; }
          } catch (e) { /* still offline */ }
          connect();
        }, 2000);
      }
    });
  }
  connect();
})();
