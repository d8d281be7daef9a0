// One key decides the focused suggestion: y accepts it, n dismisses it. Include with the
// _suggestions.html fragment; it submits the fragment's own forms, so it also works as a plain page.
let decidedByKey = false;

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const item = document.activeElement?.closest?.("[data-suggestion-id]");
  if (!item) return;
  const action = { y: "accept-suggestion", n: "dismiss-suggestion" }[event.key];
  if (!action) return;
  event.preventDefault();
  decidedByKey = true;
  item.querySelector(`[data-action="${action}"]`)?.click();
});

// The fragment is swapped after each decision: keep the keyboard in the list on the next suggestion.
document.addEventListener("htmx:load", (event) => {
  if (event.target.id !== "suggestions" || !decidedByKey) return;
  decidedByKey = false;
  event.target.querySelector("[data-suggestion-id]")?.focus();
});
