// What a job and a sweep submission share: model, dataset, name, exports, every hparam and every
// training field (from the API's schema), and the API's errors shown next to the fields they name.
import { api } from "./api.js";
import { errorBox, h, replace } from "./dom.js";
import { hasProperty, objectSchema, SchemaFieldset } from "./schema_form.js";

const EXPORTS = [
  ["tflite", "TFLite, float, pruned weights in the sparse format"],
  ["tflite_int8", "TFLite, int8 weights and activations, sparse format kept"],
];

export class TopFields {
  constructor() {
    this.errors = new Map();
  }

  field(name, label, input, help) {
    const id = input.id;
    const error = h("p", { id: `${id}-error`, class: "field-error" });
    this.errors.set(name, [input, error]);
    input.setAttribute("aria-describedby", `${help ? `${id}-help ` : ""}${id}-error`);
    return h("div", { class: "field" }, h("label", { for: id }, label), input, help ? h("p", { id: `${id}-help`, class: "hint" }, help) : null, error);
  }

  showError(name, message) {
    const entry = this.errors.get(name);
    if (!entry) return false;
    entry[1].textContent = message;
    entry[0].setAttribute("aria-invalid", "true");
    return true;
  }

  clearErrors() {
    for (const [input, error] of this.errors.values()) {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
    }
  }
}

const choose = (id, items, selected, describe) =>
  h("select", { id, required: true }, h("option", { value: "" }, "choose…"), items.map((x) => h("option", { value: x.id, selected: x.id === selected }, describe(x))));

export async function jobFields(query, createSchema) {
  const [models, datasets, hparams, training, exportable] = await Promise.all([
    api("/v1/models?limit=200"),
    api("/v1/datasets?limit=200"),
    objectSchema("JobCreate", "hparams"),
    objectSchema("JobCreate", "training"),
    hasProperty(createSchema, "exports"),
  ]);
  if (!hparams || !training) throw new Error("this server's /openapi.json does not describe hparams and training");
  const top = new TopFields();
  const name = h("input", { id: "job-name", type: "text", autocomplete: "off" });
  const model = choose("job-model", models.data, query.get("model_id"), (m) => `${m.name} (${m.format}, ${m.params_prunable} prunable params)`);
  const dataset = choose("job-dataset", datasets.data, query.get("dataset_id"), (d) => `${d.name} (${d.n_train} examples)`);
  const boxes = EXPORTS.map(([value, label]) => [value, h("input", { type: "checkbox", id: `export-${value}`, value }), label]);
  const exportsGroup = h("fieldset", { id: "job-exports", class: "checks" }, h("legend", {}, "Exports"), boxes.map(([, box, label]) => h("div", {}, box, " ", h("label", { for: box.id }, label))));
  const exportsError = h("p", { id: "job-exports-error", class: "field-error" });
  top.errors.set("exports", [exportsGroup, exportsError]);
  const hp = new SchemaFieldset("hparams", "Pruning hyperparameters (PRUNING.md section 1)", hparams);
  const tr = new SchemaFieldset("training", "Training (PRUNING.md section 7)", training);
  return {
    top,
    elements: [
      top.field("model_id", "Model", model),
      top.field("dataset_id", "Dataset", dataset),
      top.field("name", "Name (optional)", name),
      exportable ? [exportsGroup, exportsError] : null,
      hp.element,
      tr.element,
    ],
    body() {
      const out = { model_id: model.value, dataset_id: dataset.value, hparams: hp.values(), training: tr.values() };
      if (name.value.trim()) out.name = name.value.trim();
      const chosen = boxes.filter(([, box]) => box.checked).map(([value]) => value);
      if (chosen.length) out.exports = chosen;
      return out;
    },
    showError(err, summary) {
      for (const part of [top, hp, tr]) part.clearErrors();
      const details = Array.isArray(err.details) ? err.details : [];
      for (const detail of details) {
        if (!detail || typeof detail.field !== "string") continue;
        let path = detail.field.replace(/^body\./, "");
        if (err.code === "invalid_hparams") path = `hparams.${detail.field}`;
        if (err.code === "invalid_training") path = `training.${detail.field}`;
        const [head, ...rest] = path.split(".");
        const inner = rest.join(".");
        const placed = (head === "hparams" && hp.showError(inner, detail.message)) || (head === "training" && tr.showError(inner, detail.message));
        if (!placed) top.showError(path, detail.message);
      }
      replace(summary, errorBox(err));
      hp.focusFirstError() || tr.focusFirstError();
    },
  };
}

// A form that posts the body to the API and goes to the new resource's page.
export function submitForm({ id, fields, extra = [], submitLabel, path, extend = (b) => b, next }) {
  const summary = h("div", { class: "form-summary", "aria-live": "assertive" });
  const button = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { id, method: "post", class: "card job-form", novalidate: true }, summary, fields.elements, extra, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    replace(summary);
    try {
      const created = await api(path, { method: "POST", json: extend(fields.body()) });
      location.assign(next(created));
    } catch (err) {
      fields.showError(err, summary);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
