// supportbot review page: leads sign in with their token, then filter, edit and
// approve or reject harvested pairs in bulk through /api/review.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem("supportbot.review.token") || "";

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : `HTTP ${response.status}`;
      throw Object.assign(new Error(detail), { status: response.status });
    }
    return data;
  }

  async function signIn() {
    try {
      const me = await call("GET", "/api/review/whoami");
      sessionStorage.setItem("supportbot.review.token", token);
      $("who").textContent = `Signed in as ${me.reviewer}`;
      $("signin-error").textContent = "";
      $("token").value = "";
      $("signin").hidden = true;
      $("work").hidden = false;
      $("signout").hidden = false;
      await load();
    } catch (error) {
      if (error.status === 401 || error.status === 403) signOut();
      $("signin-error").textContent = error.message;
    }
  }

  // Forget the token in this tab and show the sign-in form again.
  function signOut() {
    token = "";
    sessionStorage.removeItem("supportbot.review.token");
    $("who").textContent = "";
    $("pairs").replaceChildren();
    $("handoffs").replaceChildren();
    $("work").hidden = true;
    $("signout").hidden = true;
    $("signin").hidden = false;
  }

  async function load() {
    const params = new URLSearchParams({
      status: $("status").value, kind: $("kind").value, q: $("q").value,
    });
    const pairs = await call("GET", `/api/review/pairs?${params}`);
    const list = $("pairs");
    list.replaceChildren(...pairs.map(render));
    $("select-all").checked = false;
    $("status-line").textContent = `${pairs.length} shown`;
    const handoffs = await call("GET", "/api/review/handoffs");
    $("handoffs").replaceChildren(...handoffs.map(renderHandoff));
  }

  // A hand-off request: the question, when and where, and how to reach the asker.
  function renderHandoff(request) {
    const item = document.createElement("li");
    item.className = "pair handoff-request";
    const head = document.createElement("header");
    head.textContent = `${request.at.slice(0, 16).replace("T", " ")} · ${request.surface}` +
      (request.contact ? ` · reply to ${request.contact}` : " · no contact left");
    const question = document.createElement("p");
    question.textContent = request.question;
    item.append(head, question);
    if (request.ticket) {
      const ticket = document.createElement("p");
      ticket.className = "meta";
      const safe = request.ticket_url && /^https?:\/\//.test(request.ticket_url);
      const target = document.createElement(safe ? "a" : "span");
      if (safe) {
        target.href = request.ticket_url;
        target.target = "_blank";
        target.rel = "noopener";
      }
      target.textContent = `Ticket ${request.ticket}`;
      ticket.append(target);
      item.append(ticket);
    }
    return item;
  }

  function render(pair) {
    const item = document.createElement("li");
    item.className = `pair ${pair.status}`;
    item.dataset.id = pair.id;
    const head = document.createElement("header");
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.className = "pick";
    pick.setAttribute("aria-label", `Select pair ${pair.id}`);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = [`#${pair.id}`, pair.status, pair.kind, pair.origin,
      pair.surface && `from ${pair.surface}`, pair.times_asked > 1 && `asked ${pair.times_asked}×`,
      pair.comment && `comment: “${pair.comment}”`, pair.sources.length && `sources: ${pair.sources.join(", ")}`,
      pair.decided_by && `decided by ${pair.decided_by}`].filter(Boolean).join(" · ");
    head.append(pick, meta);
    const question = field("Question", pair.question);
    const answer = field(pair.answer ? "Answer" : "Answer (needed)", pair.answer);
    const row = document.createElement("div");
    row.className = "row";
    const save = document.createElement("button");
    save.type = "button";
    save.textContent = "Save edits";
    save.addEventListener("click", async () => {
      try {
        const body = { question: question.value.value };
        if (answer.value.value.trim()) body.answer = answer.value.value;
        await call("PATCH", `/api/review/pairs/${pair.id}`, body);
        $("status-line").textContent = `#${pair.id} saved`;
      } catch (error) { $("status-line").textContent = error.message; }
    });
    row.append(save, toggle(pair, "test", "Test pair (never trained on)"),
      toggle(pair, "critical", "Critical"));
    item.append(head, question.label, answer.label, row, historyOf(pair));
    return item;
  }

  // A pair's flag for the evaluation gate, saved as soon as it changes.
  function toggle(pair, name, text) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = Boolean(pair[name]);
    box.addEventListener("change", async () => {
      try {
        await call("PATCH", `/api/review/pairs/${pair.id}`, { [name]: box.checked });
        $("status-line").textContent = `#${pair.id} ${box.checked ? "marked" : "unmarked"} ${name}`;
      } catch (error) {
        box.checked = !box.checked;
        $("status-line").textContent = error.message;
      }
    });
    label.append(box, ` ${text}`);
    return label;
  }

  // Every decision and edit, oldest first, fetched when opened.
  function historyOf(pair) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "History";
    const list = document.createElement("ol");
    list.className = "history";
    details.append(summary, list);
    details.addEventListener("toggle", async () => {
      if (!details.open) return;
      try {
        const events = await call("GET", `/api/review/pairs/${pair.id}/history`);
        list.replaceChildren(...events.map((event) => {
          const line = document.createElement("li");
          const changed = Object.keys(event.changes);
          line.textContent = [new Date(event.at).toLocaleString(), `${event.action} by ${event.by}`,
            changed.length && `changed ${changed.join(", ")}`, event.note].filter(Boolean).join(" · ");
          return line;
        }));
        if (!events.length) list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "No decisions yet." }));
      } catch (error) { $("status-line").textContent = error.message; }
    });
    return details;
  }

  function field(text, value) {
    const label = document.createElement("label");
    label.textContent = text;
    const area = document.createElement("textarea");
    area.rows = 3;
    area.maxLength = 4000;
    area.value = value || "";
    label.append(area);
    return { label, value: area };
  }

  async function bulk(status) {
    const ids = [...document.querySelectorAll(".pair .pick:checked")]
      .map((box) => Number(box.closest(".pair").dataset.id));
    if (!ids.length) { $("status-line").textContent = "Select some pairs first."; return; }
    try {
      const results = await call("POST", "/api/review/decisions", { pair_ids: ids, status });
      const failed = results.filter((r) => !r.ok);
      await load();
      $("status-line").textContent = `${results.length - failed.length} ${status}` +
        (failed.length ? `; ${failed.map((f) => `#${f.pair_id}: ${f.detail}`).join("; ")}` : "");
    } catch (error) { $("status-line").textContent = error.message; }
  }

  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("token").value;
    signIn();
  });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  $("select-all").addEventListener("change", (event) => {
    document.querySelectorAll(".pair .pick").forEach((box) => { box.checked = event.target.checked; });
  });
  $("signout").addEventListener("click", () => {
    signOut();
    $("signin-error").textContent = "Signed out.";
    $("token").focus();
  });
  $("approve").addEventListener("click", () => bulk("approved"));
  $("reject").addEventListener("click", () => bulk("rejected"));
  if (token) signIn();
})();
