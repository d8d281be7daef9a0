// The editing workspace: what HTML alone cannot do. Text selection to offsets, hotkeys, the entity
// selection and the text cursor, edge dragging, and telling the editor when a change was not saved.
// Every change is one htmx request; the server snaps selections to whole words, checks the version
// and answers with the regions that changed (segments of the text, entity groups, messages), out of
// band, and a "workspace-answer" event with the article's version and the entity to select. Only
// such answers are applied: a sign-in page, an error page or no answer at all leaves the text as it
// was and says, in the alert that stays in view, that the change was NOT saved and what to do.
//
// Offsets: the browser counts UTF-16 units, the server Unicode code points (like Python's str).
// Every offset sent is converted by counting code points of the text before it.

import { codePoints, highlight, rangeOf as rangeIn, unitsAt as unitsIn } from "./offsets.js";
import { listOccurrences, showAll } from "./side-list.js";

const root = document.querySelector("[data-workspace]");
const text = JSON.parse(document.getElementById("workspace-text").textContent);
const body = () => document.querySelector("[data-article-body]");
const marks = () => [...body().querySelectorAll("[data-span-id]")];
const markById = (id) => (id ? body().querySelector(`[data-span-id="${CSS.escape(String(id))}"]`) : null);
const labelButtons = [...root.querySelectorAll("[data-label-choice]")];
const stickyBox = root.querySelector("[data-sticky]");
const help = document.getElementById("help");
const expanded = new Set(); // labels whose every entity text is listed
let selectedId = null;
let cursor = null; // the text cursor: {start, end} in UTF-16 units of the text
let stickyLabel = null;
let dragging = null;
let restore = null;

// The text never changes after import: its tokens are read once.
const articleText = body().textContent;
const TOKEN = /[\p{L}\p{N}\p{M}_]+(?:['’-][\p{L}\p{N}\p{M}_]+)*|[^\s\p{P}\p{L}\p{N}\p{M}_]+/gu;
let tokenList = null;
const tokens = () => (tokenList ??= [...articleText.matchAll(TOKEN)].map((m) => [m.index, m.index + m[0].length]));

const unitsAt = (points) => unitsIn(articleText, points);
const rangeOf = (start, end) => rangeIn(body(), start, end);

function reveal(range) {
  const box = range.getBoundingClientRect();
  const top = root.querySelector(".toolbar").getBoundingClientRect().bottom;
  if (box.top < top || box.bottom > window.innerHeight) window.scrollBy({ top: box.top - window.innerHeight / 2, behavior: "instant" });
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
  if (role === "alert") {
    const alert = document.getElementById("workspace-alert");
    alert.replaceChildren(Object.assign(document.createElement("p"), { textContent: message }));
    document.getElementById("workspace-status").textContent = "";
  } else {
    document.getElementById("workspace-status").textContent = message;
  }
}

// An entity is selected (outlined, its actions enabled), or none is and its actions are disabled.
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
    setCursor(null);
    mark.classList.add("selected");
    if (focus) mark.focus();
  }
  for (const button of root.querySelectorAll(".actions [data-action$='-span'], [data-action='label-everywhere']")) {
    button.disabled = !mark;
  }
}

// The text cursor: a run of whole words, shown without touching the text, made an entity by a label key.
function setCursor(next) {
  cursor = next;
  highlight("token-cursor", next && rangeOf(next.start, next.end));
  if (!next) return;
  select(null);
  if (document.activeElement?.closest?.("[data-span-id]")) document.activeElement.blur();
  const range = rangeOf(next.start, next.end);
  reveal(range);
  say(text.cursor.replace("%(text)s", articleText.slice(next.start, next.end)));
}

function tokenIndexAt(unit) {
  const all = tokens();
  const at = all.findIndex(([, end]) => end > unit);
  return at === -1 ? all.length - 1 : at;
}

// The text cursor starts on the selected entity's words (to cut it down or widen it), else on the
// first word in view.
function startCursor() {
  const all = tokens();
  if (!all.length) return;
  const mark = markById(selectedId);
  if (mark) {
    const first = tokenIndexAt(unitsAt(Number(mark.dataset.start)));
    const last = tokenIndexAt(unitsAt(Number(mark.dataset.end)) - 1);
    return setCursor({ start: all[first][0], end: all[last][1] });
  }
  const top = root.querySelector(".toolbar").getBoundingClientRect().bottom;
  const [start, end] = all.find(([s, e]) => rangeOf(s, e).getBoundingClientRect().bottom > top) ?? all[0];
  setCursor({ start, end });
}

function moveCursor(step) {
  const all = tokens();
  const at = tokenIndexAt(step > 0 ? cursor.end - 1 : cursor.start) + step;
  if (at < 0 || at >= all.length) return say(text.noneLeft);
  setCursor({ start: all[at][0], end: all[at][1] });
}

// Shift moves the cursor's end a word, Alt its start; it never becomes empty.
function stretchCursor(edge, step) {
  const all = tokens();
  const first = tokenIndexAt(cursor.start), last = tokenIndexAt(cursor.end - 1);
  let [from, to] = [first, last];
  if (edge === "end") to = Math.min(Math.max(last + step, first), all.length - 1);
  else from = Math.max(Math.min(first + step, last), 0);
  setCursor({ start: all[from][0], end: all[to][1] });
}

// One change at a time: each is sent when the previous one has answered, so it carries the version
// that answer set.
let queue = Promise.resolve();
function send(path, values = {}, verb = "POST") {
  const request = () => htmx.ajax(verb, path, { source: root, swap: "none", values });
  queue = queue.then(request).catch(() => {});
}

const spanPath = (action) => `${root.dataset.spansUrl}${selectedId}/${action}`;

function onSelected(action, values = {}) {
  if (!selectedId) return say(text.chooseSpan, "alert");
  send(spanPath(action), values);
}

function create(range, label) {
  send(root.dataset.spansUrl, { ...range, label });
}

function choose(label) {
  if (stickyBox.checked) {
    stickyLabel = label;
    say(text.sticky.replace("%(label)s", label));
  }
  const range = selectedText();
  if (range) {
    getSelection().removeAllRanges();
    create(range, label);
  } else if (cursor) {
    const start = codePoints(articleText.slice(0, cursor.start));
    create({ start, end: start + codePoints(articleText.slice(cursor.start, cursor.end)) }, label);
    setCursor(null);
  } else if (selectedId) {
    onSelected("label", { label });
  } else if (!stickyBox.checked) {
    say(text.chooseText, "alert");
  }
}

// The next (step 1) or previous (-1) entity that passes the test, from the selection or the cursor.
function moveBy(step, test = () => true) {
  const all = marks();
  if (!all.length) return false;
  let at = all.findIndex((m) => m.dataset.spanId === selectedId);
  if (at === -1 && cursor) {
    const point = codePoints(articleText.slice(0, cursor.start));
    at = all.findIndex((m) => Number(m.dataset.start) >= point) - (step > 0 ? 1 : 0);
    if (at < -1) at = all.length - (step > 0 ? 1 : 0);
  }
  for (let i = at === -1 ? (step > 0 ? 0 : all.length - 1) : at + step; i >= 0 && i < all.length; i += step) {
    if (test(all[i])) {
      all[i].scrollIntoView({ block: "nearest" });
      select(all[i], { focus: true });
      return true;
    }
  }
  say(text.noneLeft);
  return true;
}

function click(action) {
  root.querySelector(`[data-action="${action}"]`)?.click();
}

// Keeps a text selection alive while a label button is pressed.
for (const button of labelButtons) {
  button.addEventListener("mousedown", (event) => event.preventDefault());
  button.addEventListener("click", () => choose(button.dataset.labelChoice));
}
root.querySelector("[data-action='delete-span']").addEventListener("click", () => onSelected("delete"));
root.querySelector("[data-action='accept-span']").addEventListener("click", () => onSelected("accept"));
root.querySelector("[data-action='label-everywhere']").addEventListener("click", () => onSelected("everywhere"));
root.querySelector("[data-action='accept-all']").addEventListener("click", () => send(root.dataset.acceptAllUrl));
// The forms that change the article (undo, review, a replacement offered) go through the queue too.
root.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-change]");
  if (!form) return;
  event.preventDefault();
  send(form.action, Object.fromEntries(new FormData(form)));
});
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
      create(range, stickyLabel);
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
  const more = event.target.closest("[data-action='show-all-entities']");
  if (more) return showAll(more.dataset.labelId, root.dataset.entitiesUrl, expanded);
  const mark = event.target.closest("[data-article-body] [data-span-id]");
  if (mark && getSelection().isCollapsed) select(mark);
});

// An entity text of the side list, opened: its occurrences.
document.addEventListener("toggle", (event) => {
  if (event.target.matches?.("[data-group]") && event.target.open) listOccurrences(event.target, marks(), articleText);
}, true);

root.addEventListener("focusin", (event) => {
  const mark = event.target.closest?.("[data-article-body] [data-span-id]");
  if (mark && mark.dataset.spanId !== selectedId) select(mark);
  // A focused suggestion shows its place in the text.
  const suggestion = event.target.closest?.("[data-suggestion-id]");
  if (suggestion) {
    const start = unitsAt(Number(suggestion.dataset.start)), end = unitsAt(Number(suggestion.dataset.end));
    const range = rangeOf(start, end);
    highlight("suggestion", range);
    reveal(range);
  }
});
root.addEventListener("focusout", (event) => {
  if (event.target.closest?.("[data-suggestion-id]")) highlight("suggestion", null);
});

const ARROWS = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };

// Arrows move between entities unless a control (button, link, field) has the focus.
const inText = () => !document.activeElement || document.activeElement === document.body || body().contains(document.activeElement);

// The entity an answer gives the focus back to, in the frame after it, unless the editor has moved on.
let pendingFocus = null;
function focusPending() {
  const mark = pendingFocus;
  pendingFocus = null;
  if (mark?.isConnected && mark.dataset.spanId === selectedId) mark.focus({ preventScroll: true });
}

document.addEventListener("keydown", (event) => {
  // A key pressed between an answer and the next frame is for the entity the answer focuses.
  focusPending();
  // A focused suggestion owns its keys (y, n): static/suggestions.js decides it.
  if (help.open || event.defaultPrevented || event.target.closest("input, textarea, select, [data-suggestion-id]")) return;
  const key = event.key;
  const onSpan = Boolean(markById(selectedId));
  const hotkey = labelButtons.find((b) => b.dataset.hotkey === key);
  const sideways = key === "ArrowLeft" || key === "ArrowRight";
  let handled = true;
  if (event.ctrlKey || event.metaKey) {
    if (key === "z") click("undo");
    else handled = false;
  } else if (key === "?") help.showModal();
  else if ((event.shiftKey || event.altKey) && sideways && cursor) stretchCursor(event.shiftKey ? "end" : "start", ARROWS[key]);
  else if ((event.shiftKey || event.altKey) && sideways && onSpan) {
    onSelected("resize", { edge: event.shiftKey ? "end" : "start", by: ARROWS[key] });
  } else if (event.altKey) handled = false;
  else if (key === "Tab") handled = (body().contains(document.activeElement) || Boolean(cursor)) && moveBy(event.shiftKey ? -1 : 1);
  else if (key === "A") send(root.dataset.acceptAllUrl);
  else if (event.shiftKey) handled = false;
  else if (key in ARROWS && cursor) moveCursor(ARROWS[key]);
  else if (key in ARROWS) handled = inText() && moveBy(ARROWS[key]);
  else if (key === "j" || key === "k") moveBy(key === "j" ? 1 : -1, (m) => m.classList.contains("proposed"));
  else if ((key === "." || key === ",") && onSpan) {
    const label = markById(selectedId).dataset.label;
    moveBy(key === "." ? 1 : -1, (m) => m.dataset.label === label);
  } else if (key === "Delete" || key === "Backspace") onSelected("delete");
  else if (key === "Escape") {
    getSelection().removeAllRanges();
    if (cursor) setCursor(null);
    select(null);
  } else if (key === "Enter" && root.querySelector("[data-action='replace-overlap']")) click("replace-overlap");
  else if (hotkey) choose(hotkey.dataset.labelChoice);
  else if (key === "t") startCursor();
  else if (key === "g") {
    const first = document.querySelector("[data-suggestion-id]");
    if (first) first.focus();
    else say(text.noSuggestions);
  } else if (key === "a") onSelected("accept");
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

// Every change carries the version of the article the editor sees, and which entity lists are whole.
root.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "post") return;
  event.detail.parameters.version = body().dataset.version;
  event.detail.parameters.expanded = [...expanded];
  document.body.setAttribute("aria-busy", "true");
  const focused = Boolean(document.activeElement?.closest?.("[data-span-id]"));
  restore = { focused, selectedId };
  say(text.saving);
});

const isAnswer = (xhr) => (xhr.getResponseHeader("HX-Trigger-After-Swap") || "").includes("workspace-answer");

// The workspace's answers are swapped, refusals (4xx) included; nothing else is, ever.
root.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  if (event.detail.target?.id === "page-alert") return; // static/page-alert.js: the session changed
  if (isAnswer(xhr)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    // Not htmx's focus of the swapped-in entity, which lays the page out mid-swap: see below.
    if (body().contains(document.activeElement)) {
      document.activeElement.blur();
      if (restore) restore.focused = true;
    }
  } else if (event.detail.requestConfig?.verb === "post") {
    event.detail.shouldSwap = false;
    event.detail.isError = false;
    const status = xhr.status;
    if (status === 401) notSaved(text.signedOut);
    else if (status === 403) notSaved(text.forbidden, text.reload);
    else if (status >= 400) notSaved(text.serverError.replace("%(status)s", `${status} ${xhr.statusText}`.trim()), text.reload);
    else if (!xhr.getResponseHeader("HX-Redirect")) notSaved(text.unexpected, text.reload);
  }
});

root.addEventListener("htmx:afterRequest", () => document.body.removeAttribute("aria-busy"));

// On swap, not on settle: by then the editor may have moved on and sent the next change.
document.addEventListener("workspace-answer", (event) => {
  const { saved, select: pointed, version } = event.detail;
  if (version !== null && version !== undefined) body().dataset.version = version;
  // The entity the server points at (the one created, or the next after a deletion), unless the
  // editor has moved on while the change was on its way; the marks swapped in are new elements.
  const moved = restore && restore.selectedId !== selectedId;
  const wanted = saved && !moved && pointed ? pointed : selectedId;
  const mark = markById(wanted);
  if (saved) document.getElementById("page-alert").replaceChildren();
  root.querySelector("[data-no-entities]").hidden = !!body().querySelector("[data-span-id]");
  if (cursor) setCursor(cursor);
  else select(mark);
  // Focus in the next frame, once the change is in the page: focusing makes the browser lay the page
  // out at once, which the frame does anyway (htmx's own focus is undone before its swap, above). A
  // key pressed before that frame takes the focus there first (see the keydown handler).
  if (mark && restore?.focused) {
    pendingFocus = mark;
    requestAnimationFrame(focusPending);
  }
  restore = null;
});

function notSaved(reason, advice = text.retry) {
  restore = null;
  document.body.removeAttribute("aria-busy");
  say(`${text.notSaved.replace("%(reason)s", reason)} ${advice}`, "alert");
}

root.addEventListener("htmx:responseError", (event) => {
  // A session changed in another tab: the page's alert already says to reload (static/page-alert.js).
  if (event.detail.target?.id === "page-alert") {
    restore = null;
    return say("");
  }
});
root.addEventListener("htmx:sendError", () => notSaved(text.offline));
root.addEventListener("htmx:timeout", () => notSaved(text.timeout));

select(null);
