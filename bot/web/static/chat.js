// supportbot web chat: streams answers from /api/chat/stream (Server-Sent Events over a
// POST), shows sources, collects 👍/👎 and hand-off requests. No dependencies.
(() => {
  "use strict";
  const base = new URL(document.currentScript.src).pathname.replace(/\/static\/chat\.js$/, "");
  const params = new URLSearchParams(location.search);
  let product = params.get("product") || null; // the widget's parameter, or a pick
  let anyProduct = false;
  let lastQuestion = null;
  const token = document.querySelector('meta[name="supportbot-token"]').content;
  const messages = document.getElementById("messages");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const handoff = document.getElementById("handoff");
  let conversationId = null;
  let lastExchangeId = null;

  const scope = document.getElementById("scope");

  // "Answering for: Galaxy S10 · change"
  function showScope(products) {
    scope.replaceChildren();
    if (!products.length) {
      scope.hidden = true;
      return;
    }
    scope.append(document.createTextNode(`Answering for: ${products.join(", ")} · `));
    const change = document.createElement("button");
    change.type = "button";
    change.className = "link";
    change.textContent = "change";
    change.setAttribute("aria-label", "Choose another product");
    change.addEventListener("click", offerProducts);
    scope.append(change);
    scope.hidden = false;
  }
  if (product) showScope([product]);

  async function offerProducts() {
    try {
      const response = await fetch(`${base}/api/products`, { headers: headers() });
      if (!response.ok) throw new Error(await problem(response));
      const { products } = await response.json();
      const item = add("bot", "Which product should I answer for?");
      item.append(picker(products.filter((p) => p !== product), item));
    } catch (error) {
      add("bot error", error.message);
    }
  }

  // One button per product, plus "All products"; a click (re-)asks the last question.
  function picker(choices, item) {
    const box = document.createElement("div");
    box.className = "choices";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Products");
    for (const choice of [...choices, null]) {
      const label = choice ?? "All products";
      const b = button(label, choice ? `Answer for ${choice}` : "Search every product");
      b.addEventListener("click", () => {
        product = choice;
        anyProduct = choice === null;
        box.remove();
        item.querySelector(".text").textContent = `Answering for: ${label}`;
        if (lastQuestion) ask(lastQuestion, true);
      });
      box.append(b);
    }
    return box;
  }

  function headers() {
    const h = { "Content-Type": "application/json" };
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  async function post(path, body) {
    const response = await fetch(`${base}${path}`, {
      method: "POST", headers: headers(), body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await problem(response));
    return response;
  }

  async function problem(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
      if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
    } catch (_) { /* not JSON */ }
    return `The request failed (HTTP ${response.status}).`;
  }

  function add(kind, text) {
    const item = document.createElement("li");
    item.className = `message ${kind}`;
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    item.append(body);
    messages.append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  // Parse a text/event-stream body incrementally; calls onEvent(name, data).
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  function renderAnswer(item, result) {
    item.classList.remove("streaming");
    const body = item.querySelector(".text");
    body.innerHTML = result.answer_html; // rendered server-side with raw HTML disabled
    if (result.note && result.mode !== "excerpts") {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = result.note;
      item.append(note);
    }
    // Unscoped answers say which product each source documents.
    const withProducts = !result.products.length;
    if (result.sources.length) item.append(renderSources(result.sources, withProducts));
    if (result.exchange_id !== null) item.append(renderFeedback(result.exchange_id));
  }

  function renderSources(sources, withProducts) {
    const list = document.createElement("ol");
    list.className = "sources";
    list.setAttribute("aria-label", "Sources");
    for (const source of sources) {
      const entry = document.createElement("li");
      entry.value = source.number;
      const label = sourceLabel(source);
      let target = entry;
      if (source.url && /^https?:\/\//.test(source.url)) {
        target = document.createElement("a");
        target.href = source.url;
        target.target = "_blank";
        target.rel = "noopener";
        entry.append(target);
      }
      target.append(document.createTextNode(label));
      if (withProducts && source.product) {
        const owner = document.createElement("span");
        owner.className = "product";
        owner.textContent = ` · ${source.product}`;
        entry.append(owner);
      }
      if (source.kind === "update" && source.published_at) {
        const date = document.createElement("span");
        date.className = "date";
        date.textContent = ` · updated ${source.published_at.slice(0, 10)}`;
        entry.append(date);
      }
      list.append(entry);
    }
    return list;
  }

  // "Title: Section", without repeating the title when the section path starts with it.
  function sourceLabel(source) {
    const { title, section } = source;
    if (title && section && section.startsWith(title)) return section;
    return [title, section].filter(Boolean).join(": ") || "Source";
  }

  function renderFeedback(exchangeId) {
    const box = document.createElement("div");
    box.className = "feedback";
    const up = button("👍 Helpful", "This answer helped");
    const down = button("👎 Not helpful", "This answer did not help");
    const thanks = document.createElement("span");
    thanks.className = "thanks";
    thanks.setAttribute("role", "status");
    box.append(up, down, thanks);

    async function rate(rating, comment) {
      up.setAttribute("aria-pressed", String(rating === "up"));
      down.setAttribute("aria-pressed", String(rating === "down"));
      try {
        const body = { conversation_id: conversationId, exchange_id: exchangeId, rating };
        if (comment) body.comment = comment;
        const result = await (await post("/api/feedback", body)).json();
        thanks.textContent = result.message;
      } catch (error) {
        thanks.textContent = error.message;
      }
    }
    up.addEventListener("click", () => rate("up"));
    down.addEventListener("click", () => {
      rate("down");
      if (box.querySelector("form")) return;
      const why = document.createElement("form");
      why.innerHTML = '<label class="visually-hidden" for="why-' + exchangeId +
        '">What was wrong?</label><input id="why-' + exchangeId +
        '" maxlength="2000" placeholder="What was wrong? (optional)"><button type="submit">Send</button>';
      why.addEventListener("submit", (event) => {
        event.preventDefault();
        const comment = why.querySelector("input").value.trim();
        if (comment) rate("down", comment);
        why.remove();
      });
      box.append(why);
      why.querySelector("input").focus();
    });
    return box;
  }

  function button(label, description) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("aria-label", description);
    b.title = description;
    b.setAttribute("aria-pressed", "false");
    return b;
  }

  async function ask(question, again = false) {
    if (!again) add("user", question);
    lastQuestion = question;
    const item = add("bot streaming", "");
    item.dataset.tokens = "0";
    const text = item.querySelector(".text");
    text.textContent = "…";
    send.disabled = true;
    try {
      const body = { message: question };
      if (conversationId) body.conversation_id = conversationId;
      if (product) body.product = product;
      else if (anyProduct) body.any_product = true;
      const response = await post("/api/chat/stream", body);
      let streamed = "";
      await readEvents(response, (name, data) => {
        if (name === "start") {
          conversationId = data.conversation_id;
        } else if (name === "token") {
          streamed += data;
          text.textContent = streamed;
          item.dataset.tokens = String(Number(item.dataset.tokens) + 1);
        } else if (name === "done" && data.mode === "clarify") {
          item.classList.remove("streaming");
          text.textContent = data.answer;
          item.append(picker(data.choices, item));
        } else if (name === "done") {
          lastExchangeId = data.exchange_id;
          renderAnswer(item, data);
          if (data.products.length || !product) showScope(data.products);
          handoff.disabled = false;
        } else if (name === "error") {
          throw new Error(data.detail);
        }
      });
    } catch (error) {
      item.classList.remove("streaming");
      item.classList.add("error");
      text.textContent = error.message;
    } finally {
      send.disabled = false;
      item.scrollIntoView({ block: "end" });
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || send.disabled) return;
    input.value = "";
    ask(question);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // "Talk to a human" asks where the team can reply, then queues the request.
  handoff.addEventListener("click", () => {
    handoff.disabled = true;
    const item = add(
      "bot", "Leave your e-mail address and a person from the support team will reply there.",
    );
    const contact = document.createElement("form");
    contact.className = "contact";
    const email = document.createElement("input");
    email.type = "email";
    email.required = true;
    email.maxLength = 255;
    email.autocomplete = "email";
    email.setAttribute("aria-label", "Your e-mail address");
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "Ask a person";
    contact.append(email, submit);
    item.append(contact);
    email.focus();
    contact.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const body = { conversation_id: conversationId, contact: email.value.trim() };
        if (lastExchangeId !== null) body.exchange_id = lastExchangeId;
        const result = await (await post("/api/handoff", body)).json();
        contact.remove();
        add("bot", result.message);
      } catch (error) {
        add("bot error", error.message);
        submit.disabled = false;
      }
    });
  });
  input.focus();
})();
