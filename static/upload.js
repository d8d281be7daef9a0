// Drag and drop onto the upload form: dropped files go into the form's own file input, which
// also works alone (click to pick), so the form posts the same way either way.
const zone = document.querySelector("[data-dropzone]");
const input = zone?.querySelector("[data-file-input]");
const list = zone?.querySelector("[data-file-list]");
const units = ["B", "KB", "MB", "GB"];

function size(bytes) {
  let unit = 0;
  while (bytes >= 1024 && unit < units.length - 1) { bytes /= 1024; unit += 1; }
  return `${bytes.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function showFiles() {
  list.replaceChildren(...Array.from(input.files, (file) => {
    const item = document.createElement("li");
    item.textContent = `${file.name} (${size(file.size)})`;
    return item;
  }));
}

if (zone) {
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    input.files = event.dataTransfer.files;
    showFiles();
  });
  input.addEventListener("change", showFiles);
}
