// 受理登记 and the window's cases, beside the 窗口叫号 console. console.js announces every
// snapshot with a "yz:state" event; this script follows the ticket at the desk from it, registers
// its application as a case (POST /api/v1/windows/{w}/cases) and moves the window's cases on
// (POST /api/v1/cases/{n}/status). One request at a time, like the console itself.
(function () {
  "use strict";
  const app = document.getElementById("app");
  const WINDOW = app.dataset.window;
  const M = JSON.parse(document.getElementById("case-messages").textContent);
  const $ = (id) => document.getElementById(id);
  const btn = $("btn-case");
  const dlg = $("case-dialog");
  const rdlg = $("return-dialog");
  let state = null;
  let ticketId = null;
  let services = null;
  let busy = false;
  let returning = null;

  const toast = YZ.toast;
  const call = YZ.call;

  function enable() {
    const t = state && state.ticket;
    btn.disabled = busy || !t;
    btn.title = t ? "" : M.no_ticket;
  }

  document.addEventListener("yz:state", (ev) => {
    state = ev.detail;
    enable();
    const id = state.ticket ? state.ticket.id : null;
    if (id !== ticketId) { ticketId = id; loadCases(); }
  });

  // ---- the window's cases -------------------------------------------------------------------
  function watchText(c) {
    if (c.alert === "yellow" || c.alert === "red") return M["alert_" + c.alert].replace("{days}", c.overdue_days);
    if (c.status !== "accepted" && c.status !== "processing") return "";
    return c.days_left === 0 ? M.due_today : M.days_left.replace("{days}", c.days_left);
  }

  function receiptLink(number, text) {
    return Object.assign(document.createElement("a"), {
      href: "/console/cases/" + encodeURIComponent(number) + "/receipt", target: "_blank", rel: "noopener",
      className: "receipt-link", textContent: text,
    });
  }

  async function loadCases() {
    let rows;
    try {
      const r = await call("GET", "/api/v1/windows/" + encodeURIComponent(WINDOW) + "/cases");
      if (!r.ok) return;
      rows = r.data;
    } catch (e) { return; }
    const list = $("wcases");
    if (!rows.length) {
      list.replaceChildren(Object.assign(document.createElement("li"), { textContent: M.none, className: "muted" }));
      return;
    }
    list.replaceChildren(...rows.map((c) => {
      const li = document.createElement("li");
      li.dataset.case = c.case_number;
      li.className = c.alert;
      li.innerHTML = "<span class='cn'></span> <span class='st'></span><br><span class='sv'></span><br><small class='muted'></small><div class='btns'></div>";
      li.querySelector(".cn").textContent = c.case_number;
      li.querySelector(".st").textContent = c.status_name;
      li.querySelector(".sv").textContent = (c.masked_name || M.anonymous) + " · " + c.service_name;
      li.querySelector("small").textContent = c.deadline + " " + watchText(c);
      const box = li.querySelector(".btns");
      for (const target of c.next) {
        const b = document.createElement("button");
        b.className = "small";
        b.dataset.do = target;
        b.textContent = M["do_" + target];
        b.addEventListener("click", () => (target === "returned" ? openReturn(c.case_number) : move(c.case_number, target, "")));
        box.appendChild(b);
      }
      box.appendChild(receiptLink(c.case_number, M.receipt_short));
      return li;
    }));
  }

  async function move(number, target, reason) {
    if (busy) return false;
    busy = true;
    enable();
    try {
      const r = await call("POST", "/api/v1/cases/" + encodeURIComponent(number) + "/status", { status: target, reason: reason });
      if (r.ok) {
        toast(M.moved.replace("{case_number}", number).replace("{status}", r.data.status_name), "ok");
        return true;
      }
      const msg = (r.data && r.data.message) || String(r.status);
      if (rdlg.open) { $("return-error").textContent = msg; $("return-error").hidden = false; } else toast(msg, "error");
      return false;
    } catch (e) {
      if (e.message !== "login") toast(M.network, "error");
      return false;
    } finally {
      busy = false;
      enable();
      loadCases();
    }
  }

  function openReturn(number) {
    returning = number;
    $("return-number").textContent = number;
    $("return-reason").value = "";
    $("return-error").hidden = true;
    rdlg.showModal();
    $("return-reason").focus();
  }
  $("return-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (await move(returning, "returned", $("return-reason").value)) rdlg.close();
  });
  $("return-cancel").addEventListener("click", () => rdlg.close());

  // ---- 受理登记 -------------------------------------------------------------------------------
  async function loadServices() {
    if (services) return services;
    const r = await call("GET", "/api/v1/services");
    if (r.ok) services = r.data;
    return services || [];
  }

  function option(s) {
    const o = document.createElement("option");
    o.value = s.code;
    o.textContent = s.code + " " + s.name + "（" + s.class + (s.promised_days ? " · " + s.promised_days + "个工作日" : "") + "）";
    return o;
  }

  async function openRegister() {
    if (busy || !state || !state.ticket || dlg.open) return;
    const t = state.ticket;
    $("case-text").textContent = M.register_text.replace("{number}", t.number);
    $("case-error").hidden = true;
    $("case-result").hidden = true;
    $("case-service").disabled = false;
    $("case-ok").hidden = false;
    $("case-cancel-label").textContent = M.cancel;
    let all;
    try { all = await loadServices(); } catch (e) { toast(M.network, "error"); return; }
    const mine = new Set(state.queues.map((q) => q.id));
    const groups = [[M.this_window, all.filter((s) => mine.has(s.queue))], [M.other_services, all.filter((s) => !mine.has(s.queue))]];
    $("case-service").replaceChildren(...groups.filter(([, list]) => list.length).map(([label, list]) => {
      const g = document.createElement("optgroup");
      g.label = label;
      g.append(...list.map(option));
      return g;
    }));
    $("case-service").value = t.service;
    $("case-form").dataset.ticket = t.id;
    dlg.showModal();
    $("case-service").focus();
  }

  $("case-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (busy) return;
    if (!$("case-result").hidden) { dlg.close(); return; }  // Enter again closes the receipt
    busy = true;
    enable();
    $("case-ok").disabled = true;
    try {
      const r = await call("POST", "/api/v1/windows/" + encodeURIComponent(WINDOW) + "/cases",
        { service: $("case-service").value, ticket_id: Number($("case-form").dataset.ticket) });
      if (r.ok) {
        const c = r.data;
        const line = c.status === "done" ? M.registered_done.replace("{case_number}", c.case_number)
          : M.registered.replace("{case_number}", c.case_number).replace("{deadline}", c.deadline);
        const box = $("case-result");
        box.replaceChildren(Object.assign(document.createElement("span"), { className: "cn", textContent: c.case_number }),
          document.createTextNode(line), document.createElement("br"),
          Object.assign(document.createElement("small"), { textContent: M.receipt }), document.createElement("br"),
          receiptLink(c.case_number, M.receipt_link));
        box.hidden = false;
        $("case-service").disabled = true;
        $("case-ok").hidden = true;
        $("case-cancel-label").textContent = M.close;
        toast(line, "ok");
      } else {
        $("case-error").textContent = (r.data && r.data.message) || String(r.status);
        $("case-error").hidden = false;
      }
    } catch (e) {
      if (e.message !== "login") { $("case-error").textContent = M.network; $("case-error").hidden = false; }
    } finally {
      busy = false;
      $("case-ok").disabled = false;
      enable();
      loadCases();
    }
  });
  $("case-cancel").addEventListener("click", () => dlg.close());

  // The console's own keys must not act while a case dialog has the keyboard.
  for (const d of [dlg, rdlg]) {
    d.addEventListener("keydown", (ev) => {
      ev.stopPropagation();
      // Enter on the service list registers (a <select> does not submit its form by itself).
      if (ev.key === "Enter" && ev.target.tagName === "SELECT") { ev.preventDefault(); ev.target.form.requestSubmit(); }
    });
  }
  btn.addEventListener("click", openRegister);
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "9" || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || document.querySelector("dialog[open]")) return;
    ev.preventDefault();
    if (!btn.disabled) openRegister();
  });
  loadCases();
})();
