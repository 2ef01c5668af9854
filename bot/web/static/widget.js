// Embeds the supportbot chat on any page:
//   <script src="https://YOUR-HOST/widget.js" data-product="Nimbus Hub" async></script>
// Adds a "Help" button that opens the chat in an iframe served by supportbot.
(() => {
  "use strict";
  const script = document.currentScript;
  const origin = new URL(script.src).origin;
  const params = new URLSearchParams({ embed: "1" });
  if (script.dataset.product) params.set("product", script.dataset.product);
  const label = script.dataset.label || "Help";

  const frame = document.createElement("iframe");
  frame.src = `${origin}/?${params}`;
  frame.title = "Support chat";
  frame.hidden = true;
  Object.assign(frame.style, {
    position: "fixed", right: "1rem", bottom: "4.5rem", width: "min(26rem, calc(100vw - 2rem))",
    height: "min(40rem, calc(100vh - 6rem))", border: "1px solid #d6dae1",
    borderRadius: "0.75rem", boxShadow: "0 8px 24px rgba(0,0,0,.18)", zIndex: 2147483646,
    background: "#fff",
  });

  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.textContent = label;
  toggle.setAttribute("aria-expanded", "false");
  Object.assign(toggle.style, {
    position: "fixed", right: "1rem", bottom: "1rem", zIndex: 2147483647,
    padding: "0.7rem 1.1rem", borderRadius: "999px", border: "none",
    background: "#1d3557", color: "#fff", font: "inherit", cursor: "pointer",
  });
  toggle.addEventListener("click", () => {
    frame.hidden = !frame.hidden;
    toggle.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.append(frame, toggle);
})();
