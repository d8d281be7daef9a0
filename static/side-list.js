// The workspace's side list: a label's every entity text on demand, and an entity text, opened,
// listing its occurrences in the article, each a link to its entity with a little of the text
// around it. The server sends the texts alone (an answer to a change swaps whole lists, so each
// text is as few elements as it can be).

import { unitsAt } from "./offsets.js";

const CONTEXT = 30; // characters shown either side

export function listOccurrences(group, marks, text) {
  const list = group.querySelector(".occurrences") ?? group.appendChild(document.createElement("ol"));
  list.className = "occurrences";
  const items = marks
    .filter((m) => m.dataset.label === group.dataset.label && m.textContent === group.dataset.text)
    .map((m) => {
      const start = unitsAt(text, Number(m.dataset.start)), end = start + m.textContent.length;
      const link = Object.assign(document.createElement("a"), { href: `#span-${m.dataset.spanId}` });
      link.dataset.jump = m.dataset.spanId;
      link.textContent = `…${text.slice(Math.max(0, start - CONTEXT), start)}[${m.textContent}]${text.slice(end, end + CONTEXT)}…`;
      const item = document.createElement("li");
      item.append(link);
      return item;
    });
  list.replaceChildren(...items);
}

// Every text of a label, not only the most frequent: the list stays whole in later answers.
export function showAll(labelId, entitiesUrl, expanded) {
  expanded.add(labelId);
  const url = entitiesUrl.replace(/0\/$/, `${labelId}/`);
  htmx.ajax("GET", url, { target: `#entities-${labelId}`, swap: "outerHTML" });
}
