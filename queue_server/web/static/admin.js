// 大厅管理 dashboard: renders snapshots pushed by the server (server-sent events).
(function () {
  "use strict";
  const root = document.getElementById("dash");
  const CSRF = root.dataset.csrf;
  const M = JSON.parse(document.getElementById("messages").textContent);
  const $ = (id) => document.getElementById(id);
  const mins = (s) => Math.round(s / 60) + M.min;

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function dot(td, kind) {
    const d = document.createElement("span");
    d.className = "dot " + kind;
    td.prepend(d);
  }

  function render(s) {
    $("alerts").replaceChildren(...s.alerts.map((a) => Object.assign(document.createElement("li"), { textContent: a })));
    $("t-waiting").textContent = s.totals.waiting;
    $("t-longest").textContent = mins(s.totals.longest_wait_s);
    $("t-issued").textContent = s.totals.issued;
    $("t-served").textContent = s.totals.served;
    $("t-windows").textContent = s.totals.open_windows + " / " + s.totals.windows;
    $("queues").tBodies[0].replaceChildren(...s.queues.map((q) => {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.id;
      if (q.alert) tr.className = "alert";
      cell(tr, q.id + " " + q.name);
      cell(tr, q.waiting, "n waiting");
      cell(tr, q.waiting ? mins(q.longest_wait_s) : "—", "n");
      cell(tr, q.waiting ? mins(q.estimated_wait_s) : "—", "n");
      cell(tr, q.issued, "n");
      cell(tr, q.served, "n");
      cell(tr, q.open_windows, "n");
      cell(tr, q.open ? M.yes : M.no);
      return tr;
    }));
    $("devices").tBodies[0].replaceChildren(...(s.devices.length ? s.devices.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.device = d.device;
      tr.className = d.ok ? "" : "alert";
      cell(tr, d.device);
      cell(tr, d.kind);
      const td = cell(tr, d.ok ? M.ok : (d.bad_parts.join("；") || M[d.state === "offline" ? "offline_dev" : d.state] || d.state));
      dot(td, d.ok ? "ok" : "bad");
      cell(tr, d.updated);  // the hall's local time, whatever the browser's time zone
      return tr;
    }) : [Object.assign(document.createElement("tr"), { innerHTML: "<td colspan=4 class=muted></td>" })]));
    if (!s.devices.length) $("devices").tBodies[0].querySelector("td").textContent = M.none;
    $("windows").tBodies[0].replaceChildren(...s.windows.map((w) => {
      const tr = document.createElement("tr");
      tr.dataset.window = w.id;
      cell(tr, w.name);
      // a paused window says why and since when (暂停 · 开会 · 10:05 起)
      dot(cell(tr, w.pause_text ? M[w.state] + " · " + w.pause_text : M[w.state], "wstate"),
          w.state === "open" ? "ok" : w.state);
      cell(tr, w.ticket ? w.ticket + "（" + (M["state_" + w.ticket_state] || "") + "）" : "—", "ticket");
      cell(tr, Object.entries(w.queues).map(([k, v]) => k + ":" + v).join(" "));
      cell(tr, w.logged_in.join("、") || (w.clerk || "—"));
      const td = cell(tr, "", "btns");
      for (const [action, label] of [["open", M.do_open], ["pause", M.do_pause], ["close", M.do_close]]) {
        if ((action === "open" && w.state === "open") || (action === "pause" && w.state !== "open") || (action === "close" && (w.state === "closed" || w.ticket))) continue;
        const b = document.createElement("button");
        b.textContent = label;
        b.dataset.action = action;
        b.addEventListener("click", () => windowAction(w.id, action, b));
        td.appendChild(b);
      }
      const a = document.createElement("a");
      a.href = "/console?window=" + encodeURIComponent(w.id);
      a.textContent = M.open_console;
      td.appendChild(a);
      return tr;
    }));
  }

  async function windowAction(id, action, button) {
    button.disabled = true;
    try {
      const r = await fetch("/api/v1/windows/" + encodeURIComponent(id) + "/" + action, { method: "POST", headers: { "X-CSRF-Token": CSRF, Accept: "application/json" } });
      if (!r.ok) { let m = r.statusText; try { m = (await r.json()).message; } catch (e) { /* */ } alert(m); }
    } catch (e) { alert(M.network); }
    button.disabled = false;
  }

  function setConn(kind) { const el = $("conn"); el.dataset.state = kind; el.textContent = M[kind]; }
  let es = null;
  function connect() {
    if (es) es.close();
    es = new EventSource("/admin/events");
    es.addEventListener("open", () => setConn("live"));
    es.addEventListener("state", (ev) => { setConn("live"); render(JSON.parse(ev.data)); });
    es.addEventListener("logout", () => { es.close(); location.href = "/login"; });
    es.addEventListener("error", () => { setConn("offline"); if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000); });
  }
  connect();
})();
