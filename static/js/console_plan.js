// The plan page (console): a "select all" box ticks every task of its section (or all).
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  const group = box.dataset.selectAll;
  const form = box.closest("form");
  if (!form) return;
  const selector = group === "all" ? 'input[name="tasks"]' : `input[name="tasks"][data-group="${group}"]`;
  form.querySelectorAll(selector).forEach((task) => {
    task.checked = box.checked;
  });
});
