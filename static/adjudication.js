// Adjudication: the keyboard walks the disagreements between two versions of an article, shows
// where each is in both texts, and settles it with one key. The decisions are plain forms that
// htmx sends; the list of disagreements is swapped after each one.

import { highlight, rangeOf, unitsAt } from "./offsets.js";

const root = document.querySelector("[data-adjudication]");
const help = document.getElementById("help");
const texts = [...root.querySelectorAll("[data-version-text]")];
const items = () => [...root.querySelectorAll("[data-disagreement]")];
let current = 0;

function show(index) {
  const all = items();
  if (!all.length) return;
  current = Math.max(0, Math.min(index, all.length - 1));
  for (const item of all) item.classList.toggle("current", item === all[current]);
  const item = all[current];
  item.focus({ preventScroll: true });
  item.scrollIntoView({ block: "nearest" });
  const ranges = texts.map((text) => {
    const content = text.textContent;
    return rangeOf(text, unitsAt(content, Number(item.dataset.start)), unitsAt(content, Number(item.dataset.end)));
  });
  highlight("disagreement", ...ranges);
  for (const [i, range] of ranges.entries()) {
    const box = range.getBoundingClientRect();
    const column = texts[i].closest(".version");
    column.scrollTop += box.top - column.getBoundingClientRect().top - column.clientHeight / 3;
  }
}

function press(action) {
  items()[current]?.querySelector(`[data-action="${action}"]`)?.click();
}

root.querySelector("[data-action='help']").addEventListener("click", () => help.showModal());
root.addEventListener("click", (event) => {
  const item = event.target.closest("[data-disagreement]");
  if (item) show(items().indexOf(item));
});

document.addEventListener("keydown", (event) => {
  if (help.open || event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, textarea, select")) return;
  const handled = {
    ArrowRight: () => show(current + 1),
    ArrowDown: () => show(current + 1),
    ArrowLeft: () => show(current - 1),
    ArrowUp: () => show(current - 1),
    1: () => press("take-1"),
    2: () => press("take-2"),
    e: () => press("edit"),
    r: () => root.querySelector("[data-action='finish-adjudication']").click(),
    "?": () => help.showModal(),
  }[event.key];
  if (!handled) return;
  event.preventDefault();
  handled();
});

// The list is swapped after a decision: on to the next disagreement not settled yet.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.target.id !== "decisions" && !event.target.closest?.("#decisions")) return;
  const all = items();
  const open = all.findIndex((item, i) => i >= current && !item.querySelector("[data-decided]"));
  show(open === -1 ? current : open);
});

// Refusals (4xx with a reason) are shown in the alert.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status >= 400 && event.detail.xhr.status < 500) {
    event.detail.shouldSwap = true; // into the alert, where the answer is retargeted
    event.detail.isError = false;
  }
});

show(0);
