// POST /v1/models/{id}/sensitivity from the model's page; the API's errors go next to the fields.
import { api } from "./api.js";
import { errorBox, h, replace, v1Path } from "./dom.js";
import { TopFields } from "./job_form.js";

export function sensitivityForm(model, datasets, onCreated) {
  const top = new TopFields();
  const dataset = h("select", { id: "sens-dataset" }, h("option", { value: "" }, "choose…"), datasets.map((d) => h("option", { value: d.id }, d.name)));
  const sparsities = h("input", { id: "sens-sparsities", type: "text", value: "0.5, 0.75, 0.9, 0.95", autocomplete: "off" });
  const summary = h("div", { "aria-live": "assertive" });
  const form = h(
    "form",
    { method: "post", class: "card", novalidate: true },
    summary,
    top.field("dataset_id", "Dataset", dataset),
    top.field("sparsities", "Sparsities", sparsities, "Comma-separated; each weight is pruned alone to each of them, without fine-tuning."),
    h("button", { type: "submit" }, "Run sensitivity analysis"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    top.clearErrors();
    replace(summary);
    const values = sparsities.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => (Number.isFinite(Number(s)) ? Number(s) : s));
    try {
      onCreated(await api(v1Path("models", model.id, "sensitivity"), { method: "POST", json: { dataset_id: dataset.value, sparsities: values } }));
    } catch (err) {
      for (const d of Array.isArray(err.details) ? err.details : []) {
        if (d && typeof d.field === "string") top.showError(d.field.replace(/^body\./, "").split(".")[0], d.message);
      }
      replace(summary, errorBox(err));
    }
  });
  return form;
}
