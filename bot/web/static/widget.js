// Embeds the supportbot chat on any page:
//   <script src="https://YOUR-HOST/widget.js" data-product="Nimbus Hub" async></script>
// Adds a "Help" button that opens the chat in an iframe served by supportbot.
//
// Attributes (all optional): data-product, data-label (the button's text), data-title,
// data-language (en, de, fr…; default: the browser's), data-theme (light, dark, auto),
// data-color (#rrggbb), data-logo (a path on the supportbot server).
//
// Events: the widget dispatches `supportbot` CustomEvents on window, detail.type one of
// opened, closed, question, answer, rated, handoff (no question or answer text, no
// conversation ids), e.g.
//   window.addEventListener("supportbot", (e) => analytics.track(`chat ${e.detail.type}`, e.detail));
(() => {
  "use strict";
  const script = document.currentScript;
  const origin = new URL(script.src).origin;
  const data = script.dataset;
  const params = new URLSearchParams({ embed: "1", host: location.origin });
  const passed = { product: "product", language: "lang", theme: "theme", color: "color",
    title: "title", logo: "logo" };
  for (const [attribute, param] of Object.entries(passed)) {
    if (data[attribute]) params.set(param, data[attribute]);
  }
  const OPEN = "supportbot.widget.open";

  const frame = document.createElement("iframe");
  frame.id = "supportbot-chat";
  frame.src = `${origin}/?${params}`;
  frame.title = data.title || "Support chat";
  frame.allow = "clipboard-write";
  frame.hidden = true;
  Object.assign(frame.style, {
    position: "fixed", right: "1rem", bottom: "4.5rem", width: "min(26rem, calc(100vw - 2rem))",
    height: "min(40rem, calc(100vh - 6rem))", border: "1px solid #d6dae1",
    borderRadius: "0.75rem", boxShadow: "0 8px 24px rgba(0,0,0,.18)", zIndex: 2147483646,
    background: "#fff",
  });

  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.textContent = data.label || "Help";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", frame.id);
  Object.assign(toggle.style, {
    position: "fixed", right: "1rem", bottom: "1rem", zIndex: 2147483647,
    padding: "0.7rem 1.1rem", borderRadius: "999px", border: "none",
    background: /^#[0-9a-f]{6}$/i.test(data.color || "") ? data.color : "#1d3557",
    color: "#fff", font: "inherit", cursor: "pointer",
  });

  function dispatch(type, detail = {}) {
    window.dispatchEvent(new CustomEvent("supportbot", { detail: { ...detail, type } }));
  }

  function focusChat() {
    frame.focus();
    frame.contentWindow.postMessage({ source: "supportbot-host", type: "focus" }, origin);
  }

  let focusWanted = false; // opened by the visitor: focus the chat once it is ready

  function open(focus = true) {
    frame.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    sessionStorage.setItem(OPEN, "1");
    focusWanted = focus;
    if (focus) focusChat();
    dispatch("opened");
  }

  function close() {
    if (frame.hidden) return;
    frame.hidden = true;
    focusWanted = false;
    toggle.setAttribute("aria-expanded", "false");
    sessionStorage.removeItem(OPEN);
    toggle.focus();
    dispatch("closed");
  }

  toggle.addEventListener("click", () => (frame.hidden ? open() : close()));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  // Only the chat's own frame speaks here.
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow || event.origin !== origin) return;
    const message = event.data;
    if (!message || message.source !== "supportbot" || typeof message.type !== "string") return;
    if (message.type === "close") return close();
    if (message.type === "ready") return focusWanted && focusChat();
    if (message.type === "focused") return (focusWanted = false);
    const { source: _source, ...detail } = message;
    dispatch(message.type, detail);
  });
  document.body.append(frame, toggle);
  // The chat stays open (and keeps its conversation) while the visitor browses the site.
  if (sessionStorage.getItem(OPEN)) open(false);
})();
