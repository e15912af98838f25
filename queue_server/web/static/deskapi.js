// What the window's scripts share (console.js, cases.js): the toast line and the JSON request
// with the session's CSRF token. A 401 sends the clerk to the login page and back here after.
(function () {
  "use strict";
  const CSRF = document.getElementById("app").dataset.csrf;

  function toast(text, kind) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.className = "toast " + (kind || "info");
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 8000 : 5000);
  }

  // Resolves {ok, status, data}; rejects with Error("login") after sending the browser to the login.
  async function call(method, url, body) {
    const r = await fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF, Accept: "application/json" },
      body: body ? JSON.stringify(body) : null,
      cache: "no-store",
    });
    if (r.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("login");
    }
    let data = null;
    try { data = await r.json(); } catch (e) { /* 204 or not JSON */ }
    return { ok: r.ok, status: r.status, data: data };
  }

  window.YZ = { toast: toast, call: call };
})();
