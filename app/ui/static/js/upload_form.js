import { upload } from "./api.js";
import { h } from "./dom.js";

// The upload form models and datasets share: file, optional name, a progress bar, the API's error.
export function uploadForm({ id, title, accept, help, path, onUploaded }) {
  const file = h("input", { id: `${id}-file`, name: "file", type: "file", accept, required: true, "aria-describedby": `${id}-help` });
  const name = h("input", { id: `${id}-name`, name: "name", type: "text", autocomplete: "off" });
  const bar = h("progress", { id: `${id}-progress`, max: "1", value: "0", hidden: true, "aria-label": "Upload progress" });
  const status = h("p", { class: "upload-status", role: "status" });
  const error = h("p", { id: `${id}-error`, class: "field-error", role: "alert" });
  const button = h("button", { type: "submit" }, "Upload");
  const form = h(
    "form",
    { method: "post", class: "card upload-form", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    h("div", { class: "field" }, h("label", { for: `${id}-file` }, "File"), file, h("p", { id: `${id}-help`, class: "hint" }, help)),
    h("div", { class: "field" }, h("label", { for: `${id}-name` }, "Name (optional)"), name),
    bar,
    status,
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const body = new FormData();
    body.append("file", file.files[0]);
    if (name.value.trim()) body.append("name", name.value.trim());
    button.disabled = true;
    bar.hidden = false;
    error.textContent = "";
    try {
      const created = await upload(path, body, (loaded, total) => {
        bar.value = loaded / total;
        status.textContent = `Uploading: ${Math.round((100 * loaded) / total)} %`;
      });
      status.textContent = "Uploaded and checked.";
      onUploaded(created);
    } catch (err) {
      status.textContent = "";
      error.textContent = `${err.message} (${err.code})`;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
