// Photo detail: a checkbox per overlay layer; a sensitive photo shows its overlay once revealed.
"use strict";
(() => {
  const stage = document.getElementById("stage");
  if (!stage) return;
  for (const box of document.querySelectorAll("input[data-layer]")) {
    const apply = () => stage.classList.toggle("hide-" + box.dataset.layer, !box.checked);
    box.addEventListener("change", apply);
    apply(); // the browser may restore a box left unchecked before a reload
  }
  const reveal = document.getElementById("reveal");
  // Runs before app.js's own handler (which swaps in the sharp image), as the click bubbles.
  stage.addEventListener("click", (event) => {
    if (!event.target.closest("img.blurred")) return;
    stage.classList.remove("veiled");
    if (reveal) reveal.hidden = true;
  });
  if (reveal) {
    reveal.addEventListener("click", () => {
      const img = stage.querySelector("img.blurred");
      if (img) img.click();
    });
  }
})();
