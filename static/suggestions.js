// One key decides the focused suggestion: y accepts it, n dismisses it. Include with the
// _suggestions.html fragment; it submits the fragment's own forms, so it also works as a plain page.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const item = document.activeElement?.closest?.("[data-suggestion-id]");
  if (!item) return;
  const action = { y: "accept-suggestion", n: "dismiss-suggestion" }[event.key];
  if (!action) return;
  event.preventDefault();
  item.querySelector(`[data-action="${action}"]`)?.click();
});
// After a swap, keep the keyboard in the list: focus the next suggestion.
document.addEventListener("htmx:afterSettle", () => {
  if (document.activeElement === document.body) document.querySelector("#suggestions [data-suggestion-id]")?.focus();
});
