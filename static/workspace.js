// The editing workspace: what HTML alone cannot do. Text selection to offsets, hotkeys, span focus,
// edge dragging, and telling the editor when a change was not saved. Every change is one htmx
// request; the server snaps selections to whole words, checks the version and answers with the
// regions that changed (the text, the entity list, the messages).
//
// Offsets: the browser counts UTF-16 units, the server Unicode code points (like Python's str).
// Every offset sent is converted by counting code points of the text before it.

const root = document.querySelector("[data-workspace]");
const text = JSON.parse(document.getElementById("workspace-text").textContent);
const body = () => document.querySelector("[data-article-body]");
const marks = () => [...body().querySelectorAll("[data-span-id]")];
const markById = (id) => (id ? body().querySelector(`[data-span-id="${CSS.escape(String(id))}"]`) : null);
const labelButtons = [...root.querySelectorAll("[data-label-choice]")];
const stickyBox = root.querySelector("[data-sticky]");
const help = document.getElementById("help");
let selectedId = null;
let stickyLabel = null;
let dragging = null;
let restore = null;

function codePoints(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff) n++; // a low surrogate ends a pair already counted
  }
  return n;
}

// Code points from the start of the article text to a DOM position inside it.
function offsetAt(node, offset) {
  const before = document.createRange();
  before.setStart(body(), 0);
  before.setEnd(node, offset);
  return codePoints(before.toString());
}

function selectedText() {
  const selection = getSelection();
  if (!selection.rangeCount || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!body().contains(range.startContainer) || !body().contains(range.endContainer)) return null;
  return { start: offsetAt(range.startContainer, range.startOffset), end: offsetAt(range.endContainer, range.endOffset) };
}

function say(message, role = "status") {
  document.getElementById(role === "alert" ? "workspace-alert" : "workspace-status").textContent = message;
  if (role === "alert") document.getElementById("workspace-status").textContent = "";
}

function select(mark, { focus = false } = {}) {
  for (const old of body().querySelectorAll("[data-span-id].selected")) {
    old.classList.remove("selected");
    old.tabIndex = -1;
  }
  selectedId = mark ? mark.dataset.spanId : null;
  // One entity is in the tab order (roving tabindex): the selected one, else the first.
  const current = mark || body().querySelector("[data-span-id]");
  if (current) current.tabIndex = 0;
  if (mark) {
    mark.classList.add("selected");
    if (focus) mark.focus();
  }
  for (const button of root.querySelectorAll(".actions [data-action$='-span'], [data-action='label-everywhere']")) {
    button.disabled = !mark;
  }
}

// One change at a time: each is sent when the previous one has answered, so it carries the version
// that answer set. (A failure is reported by the htmx:sendError/responseError handlers below.)
let queue = Promise.resolve();
function send(path, values) {
  const request = () => htmx.ajax("POST", path, { source: root, target: "#article-body", swap: "outerHTML", values });
  queue = queue.then(request).catch(() => {});
}

const spanPath = (action) => `${root.dataset.spansUrl}${selectedId}/${action}`;

function onSelected(action, values = {}) {
  if (!selectedId) return say(text.chooseSpan, "alert");
  send(spanPath(action), values);
}

function choose(label) {
  if (stickyBox.checked) {
    stickyLabel = label;
    say(text.sticky.replace("%(label)s", label));
  }
  const range = selectedText();
  if (range) {
    getSelection().removeAllRanges();
    send(root.dataset.spansUrl, { ...range, label });
  } else if (selectedId) {
    onSelected("label", { label });
  } else if (!stickyBox.checked) {
    say(text.chooseText, "alert");
  }
}

function moveBy(step) {
  const all = marks();
  if (!all.length) return false;
  const at = all.findIndex((m) => m.dataset.spanId === selectedId);
  const next = at === -1 ? (step > 0 ? 0 : all.length - 1) : at + step;
  if (next < 0 || next >= all.length) return false;
  select(all[next], { focus: true });
  return true;
}

function click(action) {
  root.querySelector(`[data-action="${action}"]`).click();
}

// Keeps a text selection alive while a label button is pressed.
for (const button of labelButtons) {
  button.addEventListener("mousedown", (event) => event.preventDefault());
  button.addEventListener("click", () => choose(button.dataset.labelChoice));
}
root.querySelector("[data-action='delete-span']").addEventListener("click", () => onSelected("delete"));
root.querySelector("[data-action='accept-span']").addEventListener("click", () => onSelected("accept"));
root.querySelector("[data-action='label-everywhere']").addEventListener("click", () => onSelected("everywhere"));
for (const form of root.querySelectorAll("form[data-change]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(form.action, {});
  });
}
root.querySelector("[data-action='help']").addEventListener("click", () => help.showModal());
// Closed, the help gives the focus back to the entity being corrected, not to its own Close button.
help.addEventListener("close", () => {
  const mark = markById(selectedId);
  if (mark) mark.focus({ preventScroll: true });
  else if (help.contains(document.activeElement)) document.activeElement.blur();
});
stickyBox.addEventListener("change", () => {
  stickyLabel = null;
  say(stickyBox.checked ? text.sticky.replace("%(label)s", "…") : text.stickyOff);
});

function nearEdge(mark, x) {
  const rects = mark.getClientRects();
  if (!rects.length) return null;
  if (Math.abs(x - rects[0].left) <= 6) return "start";
  if (Math.abs(x - rects[rects.length - 1].right) <= 6) return "end";
  return null;
}

function caretOffset(x, y) {
  const caret = document.caretPositionFromPoint?.(x, y);
  if (caret) return body().contains(caret.offsetNode) ? offsetAt(caret.offsetNode, caret.offset) : null;
  const range = document.caretRangeFromPoint?.(x, y);
  return range && body().contains(range.startContainer) ? offsetAt(range.startContainer, range.startOffset) : null;
}

root.addEventListener("pointerdown", (event) => {
  const mark = event.target.closest?.("[data-article-body] [data-span-id]");
  const edge = mark && mark.dataset.spanId === selectedId && nearEdge(mark, event.clientX);
  if (!edge) return;
  event.preventDefault(); // a drag of the edge, not a text selection
  dragging = { mark, edge };
  body().classList.add("resizing");
});

root.addEventListener("pointermove", (event) => {
  const mark = event.target.closest?.("[data-article-body] [data-span-id].selected");
  body().classList.toggle("edge", Boolean(dragging || (mark && nearEdge(mark, event.clientX))));
});

document.addEventListener("pointerup", (event) => {
  if (dragging) {
    const { mark, edge } = dragging;
    dragging = null;
    body().classList.remove("resizing");
    const at = caretOffset(event.clientX, event.clientY);
    if (at === null) return;
    const [start, end] = edge === "start" ? [at, Number(mark.dataset.end)] : [Number(mark.dataset.start), at];
    if (start < end) send(spanPath("resize"), { start, end });
    return;
  }
  if (stickyLabel && body().contains(event.target)) {
    const range = selectedText();
    if (range) {
      getSelection().removeAllRanges();
      send(root.dataset.spansUrl, { ...range, label: stickyLabel });
    }
  }
});

root.addEventListener("click", (event) => {
  const jump = event.target.closest("[data-jump]");
  if (jump) {
    event.preventDefault();
    const mark = markById(jump.dataset.jump);
    mark.scrollIntoView({ block: "center" });
    select(mark, { focus: true });
    return;
  }
  const mark = event.target.closest("[data-article-body] [data-span-id]");
  if (mark && getSelection().isCollapsed) select(mark);
});

root.addEventListener("focusin", (event) => {
  const mark = event.target.closest?.("[data-article-body] [data-span-id]");
  if (mark && mark.dataset.spanId !== selectedId) select(mark);
});

const ARROWS = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };

// Arrows move between entities unless a control (button, link, field) has the focus.
const inText = () => !document.activeElement || document.activeElement === document.body || body().contains(document.activeElement);

document.addEventListener("keydown", (event) => {
  // A focused suggestion owns its keys (y, n): static/suggestions.js decides it.
  if (help.open || event.defaultPrevented || event.target.closest("input, textarea, select, [data-suggestion-id]")) return;
  const key = event.key;
  const onSpan = Boolean(markById(selectedId));
  const hotkey = labelButtons.find((b) => b.dataset.hotkey === key);
  let handled = true;
  if (event.ctrlKey || event.metaKey) {
    if (key === "z") click("undo");
    else handled = false;
  } else if (key === "?") help.showModal();
  else if ((event.shiftKey || event.altKey) && (key === "ArrowLeft" || key === "ArrowRight") && onSpan) {
    onSelected("resize", { edge: event.shiftKey ? "end" : "start", by: ARROWS[key] });
  } else if (event.altKey) handled = false;
  else if (key === "Tab") handled = body().contains(document.activeElement) && moveBy(event.shiftKey ? -1 : 1);
  else if (event.shiftKey) handled = false;
  else if (key in ARROWS) handled = inText() && moveBy(ARROWS[key]);
  else if (key === "Delete" || key === "Backspace") onSelected("delete");
  else if (key === "Escape") {
    getSelection().removeAllRanges();
    select(null);
  } else if (hotkey) choose(hotkey.dataset.labelChoice);
  else if (key === "a") onSelected("accept");
  else if (key === "e") onSelected("everywhere");
  else if (key === "u") click("undo");
  else if (key === "r") click("mark-reviewed");
  else if (key === "n") click("next-article");
  else if (key === "s") {
    stickyBox.checked = !stickyBox.checked;
    stickyBox.dispatchEvent(new Event("change"));
  } else handled = false;
  if (handled) event.preventDefault();
});

// Every change carries the version of the article the editor sees.
root.addEventListener("htmx:configRequest", (event) => {
  event.detail.parameters.version = body().dataset.version;
  document.body.setAttribute("aria-busy", "true");
  const focused = Boolean(document.activeElement?.closest?.("[data-span-id]"));
  restore = { scrollY: window.scrollY, focused, selectedId };
  say(text.saving);
});

// Refusals (4xx with a message) are shown, a stale version refreshes the view: swap them.
root.addEventListener("htmx:beforeSwap", (event) => {
  if ([400, 404, 409, 422].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

root.addEventListener("htmx:afterRequest", () => document.body.removeAttribute("aria-busy"));

// On swap, not on settle (20 ms later): by then the editor may have moved on and sent the next change.
root.addEventListener("htmx:afterSwap", (event) => {
  if (event.target !== body()) return;
  // The entity the server points at (the one created, or the next after a deletion), unless the
  // editor has moved on while the change was on its way.
  const moved = restore && restore.selectedId !== selectedId;
  const wanted = moved ? selectedId : body().dataset.selected || selectedId;
  const mark = markById(wanted);
  select(mark);
  if (restore) {
    window.scrollTo({ top: restore.scrollY, behavior: "instant" });
    if (mark && restore.focused) mark.focus({ preventScroll: true });
  }
  restore = null;
});

function notSaved(reason) {
  restore = null;
  say(text.notSaved.replace("%(reason)s", reason), "alert");
}

root.addEventListener("htmx:responseError", (event) => {
  // A session changed in another tab: the page's alert already says to reload (static/page-alert.js).
  if (event.detail.target?.id === "page-alert") {
    restore = null;
    return say("");
  }
  notSaved(`${event.detail.xhr.status} ${event.detail.xhr.statusText}`.trim());
});
root.addEventListener("htmx:sendError", () => notSaved(text.offline));
root.addEventListener("htmx:timeout", () => notSaved(text.timeout));

select(null);
