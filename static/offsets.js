// Offsets in an article's text: the server counts Unicode code points (like Python's str), the browser
// UTF-16 units. Shared by the workspace and the adjudication page.

export function codePoints(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff) n++; // a low surrogate ends a pair already counted
  }
  return n;
}

// UTF-16 units of the text up to a code point offset.
export function unitsAt(text, points) {
  let units = 0;
  for (let n = 0; n < points && units < text.length; n++) units += text.codePointAt(units) > 0xffff ? 2 : 1;
  return units;
}

// The DOM position of a UTF-16 unit of a container's text.
export function pointAt(container, unit) {
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  let seen = 0;
  while (walker.nextNode()) {
    const n = walker.currentNode.length;
    if (unit <= seen + n) return [walker.currentNode, unit - seen];
    seen += n;
  }
  return [container, container.childNodes.length];
}

export function rangeOf(container, start, end) {
  const range = document.createRange();
  range.setStart(...pointAt(container, start));
  range.setEnd(...pointAt(container, end));
  return range;
}

// Draws a range over the text without touching it (the CSS Custom Highlight API); none: clears it.
export function highlight(name, ...ranges) {
  if (!CSS.highlights) return;
  if (ranges.length && ranges[0]) CSS.highlights.set(name, new Highlight(...ranges));
  else CSS.highlights.delete(name);
}
