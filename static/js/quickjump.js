// Ctrl/Cmd-K focuses the jump box; arrows move through its results; Escape leaves it.
(function () {
  const box = document.getElementById("quick-jump");
  const results = document.getElementById("quick-jump-results");
  if (!box || !results) return;
  const links = () => Array.from(results.querySelectorAll("a"));
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
  results.parentElement.addEventListener("keydown", (event) => {
    const all = links();
    const at = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      all[Math.min(at + 1, all.length - 1)].focus();
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      if (at <= 0) box.focus(); else all[at - 1].focus();
    } else if (event.key === "Enter" && document.activeElement === box && all.length) {
      event.preventDefault();
      window.location = all[0].href;
    } else if (event.key === "Escape") {
      results.innerHTML = "";
      box.blur();
    }
  });
})();
