// supportbot web chat: streams answers from /api/chat/stream (Server-Sent Events over a
// POST), links citations to their sources with a preview, keeps the conversations this
// browser started (localStorage holds their ids; the server returns a conversation only
// to whoever holds its id), collects 👍/👎 and hand-off requests. No dependencies.
(() => {
  "use strict";
  const root = document.documentElement;
  const base = new URL(document.currentScript.src).pathname.replace(/\/static\/chat\.js$/, "");
  const params = new URLSearchParams(location.search);
  const strings = JSON.parse(document.getElementById("strings").textContent);
  const t = (key, values = {}) =>
    (strings[key] || key).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  const token = document.querySelector('meta[name="supportbot-token"]').content;
  const embedded = document.body.classList.contains("embedded");
  const hostOrigin = root.dataset.host || "";
  const $ = (id) => document.getElementById(id);
  const messages = $("messages");
  const form = $("ask");
  const input = $("question");
  const send = $("send");
  const stop = $("stop");
  const handoff = $("handoff");
  const scope = $("scope");
  const announcer = $("announcer");

  let product = params.get("product") || null; // the widget's parameter, or a pick
  let anyProduct = false;
  let lastQuestion = null;
  let conversationId = null;
  let conversationStored = false; // the server has an answer in it: follow-ups may cite it
  let lastExchangeId = null;
  let controller = null; // the answer being streamed
  let stopTimer = null;

  // --- look ---------------------------------------------------------------------------

  const darkQuery = matchMedia("(prefers-color-scheme: dark)");
  function applyTheme() {
    const choice = root.dataset.themeChoice;
    root.dataset.theme = choice === "auto" ? (darkQuery.matches ? "dark" : "light") : choice;
  }
  applyTheme();
  darkQuery.addEventListener("change", applyTheme);
  if (/^#[0-9a-f]{6}$/i.test(root.dataset.color || "")) {
    const hex = root.dataset.color;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    const light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55;
    root.style.setProperty("--accent", hex); // CSSOM: allowed by the page's CSP
    root.style.setProperty("--accent-text", light ? "#111" : "#fff");
  }

  // --- events for the page that embeds the widget ---------------------------------------

  function emit(type, detail = {}) {
    if (!embedded || !hostOrigin || window.parent === window) return;
    window.parent.postMessage({ source: "supportbot", type, ...detail }, hostOrigin);
  }
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    if (event.data && event.data.source === "supportbot-host" && event.data.type === "focus") {
      input.focus();
      emit("focused");
    }
  });
  function close() {
    emit("close");
  }
  if ($("close")) $("close").addEventListener("click", close);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (document.querySelector(".preview:not([hidden])")) return hidePreviews();
    if (!$("sidebar").classList.contains("open")) return close();
    toggleHistory(false);
  });

  // --- the conversations this browser holds -------------------------------------------

  const SAVED = "supportbot.conversations";
  const CURRENT = "supportbot.current";
  const storage = (() => {
    try {
      localStorage.setItem("supportbot.probe", "1");
      localStorage.removeItem("supportbot.probe");
      return localStorage;
    } catch (_) {
      return null; // storage blocked: the chat still works, without history
    }
  })();

  function saved() {
    try {
      const list = JSON.parse(storage?.getItem(SAVED) || "[]");
      return Array.isArray(list) ? list.filter((c) => /^web-[0-9a-f]{32}$/.test(c.id)) : [];
    } catch (_) {
      return [];
    }
  }

  function remember(id, title) {
    if (!storage) return;
    const old = saved().find((c) => c.id === id);
    const entry = { id, title: (old?.title || title).slice(0, 80), at: new Date().toISOString() };
    const list = [entry, ...saved().filter((c) => c.id !== id)].slice(0, 30);
    storage.setItem(SAVED, JSON.stringify(list));
    storage.setItem(CURRENT, id);
    renderHistory();
  }

  function forget(id) {
    if (!storage) return;
    storage.setItem(SAVED, JSON.stringify(saved().filter((c) => c.id !== id)));
    if (storage.getItem(CURRENT) === id) storage.removeItem(CURRENT);
    renderHistory();
  }

  function renderHistory() {
    const list = saved();
    $("conversations").replaceChildren(
      ...list.map((c) => {
        const item = document.createElement("li");
        const open = document.createElement("button");
        open.type = "button";
        open.textContent = c.title;
        open.title = new Date(c.at).toLocaleString(root.lang);
        if (c.id === conversationId) open.setAttribute("aria-current", "true");
        open.addEventListener("click", () => {
          toggleHistory(false);
          openConversation(c.id);
        });
        item.append(open);
        return item;
      }),
    );
    $("no-conversations").hidden = list.length > 0;
  }

  function toggleHistory(show) {
    const toggle = $("history-toggle");
    $("sidebar").classList.toggle("open", show);
    toggle.setAttribute("aria-expanded", String(show));
    if (show) $("new-conversation").focus();
  }
  $("history-toggle").addEventListener("click", () =>
    toggleHistory(!$("sidebar").classList.contains("open")),
  );

  function clearMessages() {
    for (const item of [...messages.children]) if (!item.classList.contains("intro")) item.remove();
    lastExchangeId = null;
    handoff.disabled = true;
  }

  function newConversation() {
    if (controller) stopAnswer();
    conversationId = null;
    conversationStored = false;
    storage?.removeItem(CURRENT);
    clearMessages();
    renderHistory();
    showSuggestions();
    toggleHistory(false);
    input.focus();
  }
  $("new-conversation").addEventListener("click", newConversation);

  async function openConversation(id) {
    if (controller) stopAnswer();
    clearMessages();
    hideSuggestions();
    conversationId = id;
    conversationStored = true;
    storage?.setItem(CURRENT, id);
    renderHistory();
    try {
      const response = await fetch(`${base}/api/conversations/${id}`, { headers: headers() });
      if (response.status === 404) {
        forget(id);
        conversationId = null;
        conversationStored = false;
        add("bot", t("conversation_gone"));
        return showSuggestions();
      }
      if (!response.ok) throw new Error(await problem(response));
      const { turns } = await response.json();
      for (const turn of turns) {
        add("user", turn.question);
        const item = add("bot", "");
        renderAnswer(item, { ...turn, exchange_id: turn.mode === "stopped" ? null : turn.exchange_id });
        if (turn.mode === "stopped") markStopped(item);
        if (turn.rating) item.querySelector(`[data-rating="${turn.rating}"]`)?.setAttribute("aria-pressed", "true");
        lastQuestion = turn.question;
        lastExchangeId = turn.exchange_id;
      }
      const last = turns[turns.length - 1];
      if (last && last.products.length) product = last.products[0];
      showScope(last ? last.products : product ? [product] : []);
      handoff.disabled = !turns.length;
    } catch (error) {
      if (error instanceof TypeError) return waitForServer(() => openConversation(id));
      add("bot error", error.message);
    }
  }

  // --- suggested questions ------------------------------------------------------------

  const suggestions = $("suggestions");
  function hideSuggestions() {
    suggestions.hidden = true;
  }
  async function showSuggestions() {
    try {
      const query = product ? `?${new URLSearchParams({ product })}` : "";
      const response = await fetch(`${base}/api/suggestions${query}`, { headers: headers() });
      if (!response.ok) return;
      const { questions } = await response.json();
      if (!questions.length || conversationId) return;
      suggestions.querySelector("ul").replaceChildren(
        ...questions.map((question) => {
          const item = document.createElement("li");
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = question;
          b.addEventListener("click", () => ask(question));
          item.append(b);
          return item;
        }),
      );
      suggestions.hidden = false;
    } catch (_) {
      /* suggestions are optional */
    }
  }

  // --- products -----------------------------------------------------------------------

  // "Answering for: Galaxy S10 · change"
  function showScope(products) {
    scope.replaceChildren();
    if (!products.length) {
      scope.hidden = true;
      return;
    }
    scope.append(document.createTextNode(`${t("answering_for", { products: products.join(", ") })} · `));
    const change = document.createElement("button");
    change.type = "button";
    change.className = "link";
    change.textContent = t("change");
    change.title = t("change_label");
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
      const item = add("bot", t("which_product"));
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
    box.setAttribute("aria-label", t("products"));
    for (const choice of [...choices, null]) {
      const label = choice ?? t("all_products");
      const b = button(label, choice ? t("answer_for", { product: choice }) : t("search_every"));
      b.addEventListener("click", () => {
        product = choice;
        anyProduct = choice === null;
        box.remove();
        item.querySelector(".text").textContent = t("answering_for", { products: label });
        if (lastQuestion) ask(lastQuestion, { again: true });
      });
      box.append(b);
    }
    return box;
  }

  // --- HTTP ---------------------------------------------------------------------------

  function headers() {
    const h = { "Content-Type": "application/json" };
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  async function post(path, body, signal) {
    const response = await fetch(`${base}${path}`, {
      method: "POST", headers: headers(), body: JSON.stringify(body), signal,
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
    return t("http_failed", { status: response.status });
  }

  // The server is unreachable: say so kindly, and go on by itself once it answers again.
  let waiting = null;
  function waitForServer(then) {
    if (waiting) {
      waiting.then = then;
      return;
    }
    const item = add("bot offline", t("offline"));
    item.setAttribute("role", "alert");
    waiting = { then };
    let delay = 1000;
    const probe = async () => {
      try {
        const response = await fetch(`${base}/healthz`, { cache: "no-store" });
        if (response.ok) {
          item.remove();
          announce(t("back_online"));
          const next = waiting.then;
          waiting = null;
          return next();
        }
      } catch (_) { /* still down */ }
      delay = Math.min(delay * 1.5, 10000);
      setTimeout(probe, delay);
    };
    setTimeout(probe, delay);
  }

  // --- messages -----------------------------------------------------------------------

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

  function announce(text) {
    announcer.textContent = "";
    requestAnimationFrame(() => { announcer.textContent = text; });
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
    item.classList.remove("streaming", "error");
    item.querySelectorAll(":scope > :not(.text)").forEach((node) => node.remove());
    const body = item.querySelector(".text");
    body.innerHTML = result.answer_html; // rendered server-side with raw HTML disabled
    const key = `answer-${result.exchange_id ?? Math.random().toString(36).slice(2)}`;
    item.id = key;
    if (result.note && result.mode !== "excerpts") {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = result.note;
      item.append(note);
    }
    // Unscoped answers say which product each source documents.
    const withProducts = !result.products.length;
    const sources = dedupe(result.sources);
    if (sources.length) {
      item.append(renderSources(sources, withProducts, key));
      linkCitations(body, sources, key);
    }
    item.append(renderActions(result, body));
    if (result.exchange_id !== null) item.append(renderFeedback(result.exchange_id));
  }

  // One entry per passage: two numbers citing the same section share it.
  function dedupe(sources) {
    const seen = new Map();
    const kept = [];
    for (const source of sources) {
      const id = [source.url || source.title, source.section].join("\u0000");
      const first = seen.get(id);
      if (first) {
        first.numbers.push(source.number);
        continue;
      }
      const entry = { ...source, numbers: [source.number] };
      seen.set(id, entry);
      kept.push(entry);
    }
    return kept;
  }

  function external(url) {
    return Boolean(url) && /^https?:\/\//.test(url);
  }

  function renderSources(sources, withProducts, key) {
    const list = document.createElement("ol");
    list.className = "sources";
    list.setAttribute("aria-label", t("sources"));
    for (const source of sources) {
      const entry = document.createElement("li");
      entry.value = source.number;
      entry.id = `${key}-source-${source.number}`;
      let target = entry;
      if (external(source.url)) {
        target = document.createElement("a");
        target.href = source.url;
        target.target = "_blank";
        target.rel = "noopener";
        entry.append(target);
      }
      target.append(document.createTextNode(sourceLabel(source)));
      if (withProducts && source.product) {
        const owner = document.createElement("span");
        owner.className = "product";
        owner.textContent = ` · ${source.product}`;
        entry.append(owner);
      }
      if (source.kind === "update" && source.published_at) {
        const date = document.createElement("span");
        date.className = "date";
        date.textContent = ` · ${t("updated", { date: source.published_at.slice(0, 10) })}`;
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
    return [title, section].filter(Boolean).join(": ") || t("source_n", { n: source.number });
  }

  // [n] in the answer's text becomes a link to source n, previewing its passage.
  function linkCitations(body, sources, key) {
    const byNumber = new Map();
    for (const source of sources) for (const n of source.numbers) byNumber.set(n, source);
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (const node of nodes) {
      if (node.parentElement.closest("a, code, pre")) continue;
      const parts = node.data.split(/(\[\d{1,3}\])/);
      if (parts.length === 1) continue;
      const fragment = document.createDocumentFragment();
      for (const part of parts) {
        const match = /^\[(\d+)\]$/.exec(part);
        const source = match && byNumber.get(Number(match[1]));
        fragment.append(source ? citeLink(part, source, key) : part);
      }
      node.replaceWith(fragment);
    }
  }

  function citeLink(text, source, key) {
    const link = document.createElement("a");
    link.className = "cite";
    link.textContent = text;
    if (external(source.url)) {
      link.href = source.url;
      link.target = "_blank";
      link.rel = "noopener";
    } else {
      link.href = `#${key}-source-${source.number}`;
    }
    const preview = renderPreview(source);
    preview.id = `${key}-preview-${source.number}-${Math.random().toString(36).slice(2, 8)}`;
    link.setAttribute("aria-describedby", preview.id);
    const wrap = document.createElement("span");
    wrap.className = "cite-wrap";
    wrap.append(link, preview);
    const show = () => {
      hidePreviews();
      preview.hidden = false;
    };
    link.addEventListener("mouseenter", show);
    link.addEventListener("focus", show);
    wrap.addEventListener("mouseleave", () => { preview.hidden = true; });
    link.addEventListener("blur", () => { preview.hidden = true; });
    return wrap;
  }

  function renderPreview(source) {
    const preview = document.createElement("span");
    preview.className = "preview";
    preview.setAttribute("role", "tooltip");
    preview.hidden = true;
    const title = document.createElement("strong");
    title.textContent = sourceLabel(source);
    preview.append(title);
    if (source.kind === "update" && source.published_at) {
      const date = document.createElement("span");
      date.className = "date";
      date.textContent = ` · ${t("updated", { date: source.published_at.slice(0, 10) })}`;
      preview.append(date);
    }
    const excerpt = document.createElement("span");
    excerpt.className = "excerpt";
    excerpt.textContent = source.excerpt;
    preview.append(excerpt);
    return preview;
  }

  function hidePreviews() {
    document.querySelectorAll(".preview").forEach((p) => { p.hidden = true; });
  }

  // Copy as Markdown (the answer as written) or as plain text (as shown).
  function renderActions(result, body) {
    const box = document.createElement("div");
    box.className = "actions";
    const status = document.createElement("span");
    status.className = "copied";
    status.setAttribute("role", "status");
    const copy = (text) => async () => {
      try {
        await navigator.clipboard.writeText(text());
        status.textContent = t("copied");
      } catch (_) {
        status.textContent = t("copy_failed");
      }
    };
    const markdown = button(t("copy"), t("copy_title"));
    markdown.addEventListener("click", copy(() => result.answer));
    const plain = button(t("copy_text"), t("copy_text_title"));
    plain.addEventListener("click", copy(() => body.innerText.trim()));
    box.append(markdown, plain, status);
    return box;
  }

  function renderFeedback(exchangeId) {
    const box = document.createElement("div");
    box.className = "feedback";
    const up = button(`👍 ${t("helpful")}`, t("helpful_title"), "up");
    const down = button(`👎 ${t("not_helpful")}`, t("not_helpful_title"), "down");
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
        await post("/api/feedback", body);
        thanks.textContent = t("thanks");
        emit("rated", { rating, exchange_id: exchangeId });
      } catch (error) {
        thanks.textContent = error.message;
      }
    }
    up.addEventListener("click", () => rate("up"));
    down.addEventListener("click", () => {
      rate("down");
      if (box.querySelector("form")) return;
      const why = document.createElement("form");
      const label = document.createElement("label");
      label.className = "visually-hidden";
      label.htmlFor = `why-${exchangeId}`;
      label.textContent = t("what_wrong_label");
      const field = document.createElement("input");
      field.id = `why-${exchangeId}`;
      field.maxLength = 2000;
      field.placeholder = t("what_wrong");
      const submit = document.createElement("button");
      submit.type = "submit";
      submit.textContent = t("send_comment");
      why.append(label, field, submit);
      why.addEventListener("submit", (event) => {
        event.preventDefault();
        const comment = field.value.trim();
        if (comment) rate("down", comment);
        why.remove();
      });
      box.append(why);
      field.focus();
    });
    return box;
  }

  // A button whose accessible name is its visible label; `description` is its tooltip.
  function button(label, description, rating) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = description;
    if (rating) {
      b.dataset.rating = rating;
      b.setAttribute("aria-pressed", "false");
    }
    return b;
  }

  function markStopped(item) {
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = t("stopped");
    item.querySelector(".text").after(note);
  }

  // The answer failed: keep what arrived, say what happened, offer to ask again.
  function failed(item, partial, message, question) {
    item.classList.remove("streaming");
    item.classList.add("error");
    item.querySelector(".text").textContent = partial;
    const note = document.createElement("p");
    note.className = "error-note";
    note.setAttribute("role", "alert");
    note.textContent = message;
    const retry = button(t("retry"), t("retry"));
    retry.addEventListener("click", () => ask(question, { again: true, replace: item }));
    note.append(" ", retry);
    item.append(note);
  }

  // --- asking -------------------------------------------------------------------------

  function busy(yes) {
    const focused = document.activeElement;
    send.hidden = yes;
    stop.hidden = !yes;
    if (yes && focused === send) stop.focus();
    if (!yes && (focused === stop || focused === document.body)) input.focus();
  }

  function stopAnswer() {
    const running = controller;
    if (!running) return;
    // The server stops generating and sends what was written; if it cannot be told,
    // dropping the stream stops it too.
    if (conversationId) {
      post("/api/chat/stop", { conversation_id: conversationId }).catch(() => running.abort());
      stopTimer = setTimeout(() => running.abort(), 5000);
    } else {
      running.abort();
    }
  }
  stop.addEventListener("click", stopAnswer);

  async function ask(question, { again = false, replace = null } = {}) {
    if (controller) return;
    hideSuggestions();
    if (!again) add("user", question);
    lastQuestion = question;
    const item = replace || add("bot", "");
    item.replaceChildren(item.querySelector(".text") || document.createElement("div"));
    item.className = "message bot streaming";
    item.dataset.tokens = "0";
    const text = item.querySelector(".text");
    text.className = "text";
    text.textContent = "…";
    const running = (controller = new AbortController());
    busy(true);
    emit("question", { product });
    let streamed = "";
    let finished = false;
    try {
      const body = { message: question, language: root.dataset.answerLanguage };
      if (conversationId && conversationStored) body.conversation_id = conversationId;
      if (product) body.product = product;
      else if (anyProduct) body.any_product = true;
      const response = await post("/api/chat/stream", body, running.signal);
      await readEvents(response, (name, data) => {
        if (name === "start") {
          conversationId = data.conversation_id;
        } else if (name === "token") {
          streamed += data;
          text.textContent = streamed;
          item.dataset.tokens = String(Number(item.dataset.tokens) + 1);
        } else if (name === "done" && data.mode === "clarify") {
          finished = true;
          item.classList.remove("streaming");
          text.textContent = data.answer;
          item.append(picker(data.choices, item));
        } else if (name === "done") {
          finished = true;
          stored(data, question);
          renderAnswer(item, data);
          if (data.products.length || !product) showScope(data.products);
          announce(`${t("answer_ready")} ${text.innerText}`);
          emit("answer", { mode: data.mode, sources: data.sources.length, exchange_id: data.exchange_id });
        } else if (name === "stopped") {
          finished = true;
          stored(data, question);
          renderAnswer(item, data);
          markStopped(item);
          announce(t("stopped"));
        } else if (name === "error") {
          throw new Error(data.detail);
        }
      });
      if (!finished) throw new TypeError("the stream ended early");
    } catch (error) {
      if (error.name === "AbortError") {
        renderAnswer(item, { answer: streamed, answer_html: "", mode: "stopped", note: null,
          products: [], sources: [], exchange_id: null });
        item.querySelector(".text").textContent = streamed;
        markStopped(item);
      } else if (error instanceof TypeError && !streamed) {
        // Unreachable: tell the asker, and ask again by itself when the server is back.
        item.remove();
        waitForServer(() => ask(question, { again: true }));
      } else if (error instanceof TypeError) {
        failed(item, streamed, t("interrupted"), question);
      } else {
        failed(item, streamed, error.message || t("failed"), question);
      }
    } finally {
      clearTimeout(stopTimer);
      controller = null;
      busy(false);
      item.scrollIntoView({ block: "end" });
    }
  }

  function stored(data, question) {
    if (data.exchange_id !== null) lastExchangeId = data.exchange_id;
    // Not stored (the database was down): a follow-up starts a new conversation.
    if (!data.conversation_id || (data.exchange_id === null && data.mode !== "stopped")) return;
    conversationId = data.conversation_id;
    conversationStored = true;
    remember(conversationId, question);
    handoff.disabled = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || controller) return;
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
    const item = add("bot", t("email_prompt"));
    const contact = document.createElement("form");
    contact.className = "contact";
    const email = document.createElement("input");
    email.type = "email";
    email.required = true;
    email.maxLength = 255;
    email.autocomplete = "email";
    email.setAttribute("aria-label", t("email_label"));
    email.placeholder = t("email_label");
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = t("ask_person");
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
        emit("handoff", { exchange_id: lastExchangeId });
      } catch (error) {
        add("bot error", error.message);
        submit.disabled = false;
      }
    });
  });

  // --- start --------------------------------------------------------------------------

  renderHistory();
  const current = storage?.getItem(CURRENT);
  if (current && saved().some((c) => c.id === current)) openConversation(current);
  else showSuggestions();
  if (!embedded) input.focus();
  emit("ready");
})();
