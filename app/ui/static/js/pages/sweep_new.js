import { h, replace, uiPath } from "../dom.js";
import { jobFields, submitForm } from "../job_form.js";

const numbers = (text) => text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => (Number.isFinite(Number(s)) ? Number(s) : s));

export async function render(main, _id, query) {
  const fields = await jobFields(query, "SweepCreate");
  const sparsities = h("input", { id: "sweep-sparsities", type: "text", value: "0.5, 0.75, 0.9", autocomplete: "off" });
  const drop = h("input", { id: "sweep-drop", type: "text", value: "1.0", inputmode: "decimal", autocomplete: "off" });
  const extra = [
    fields.top.field("sparsities", "Sparsities", sparsities, "2 to 16 distinct values in [0, 1), comma-separated: one job each, target_sparsity replaced."),
    fields.top.field("max_accuracy_drop", "Max accuracy drop (points)", drop, "The recommendation is the highest sparsity within this many points of the baseline."),
  ];
  const extend = (body) => ({ ...body, sparsities: numbers(sparsities.value), max_accuracy_drop: numbers(drop.value)[0] });
  replace(
    main,
    h("h1", {}, "Start a sweep"),
    h("p", { class: "hint" }, "The same job at several sparsities; the table fills in as they finish."),
    submitForm({ id: "sweep-form", fields, extra, extend, submitLabel: "Start sweep", path: "/v1/sweeps", next: (s) => uiPath("sweeps", s.id) }),
  );
}
