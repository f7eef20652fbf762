import { api } from "../api.js";
import { actionButton, facts, fmt, h, link, replace, table, uiPath, v1Path } from "../dom.js";
import { downloadList } from "../downloads.js";
import { sensitivityForm } from "../sensitivity_form.js";

function signatureTables(signatures) {
  const specs = (side) => Object.entries(side).map(([name, spec]) => ({ name, ...spec }));
  const columns = [
    ["Name", (t) => h("code", {}, t.name)],
    ["Shape", (t) => fmt.shape(t.shape)],
    ["Dtype", (t) => t.dtype],
  ];
  return Object.entries(signatures).map(([name, sig]) =>
    h(
      "section",
      { class: "signature" },
      h("h3", {}, h("code", {}, name)),
      table(columns, specs(sig.inputs), { caption: `${name}: inputs` }),
      table(columns, specs(sig.outputs), { caption: `${name}: outputs` }),
    ),
  );
}

export async function render(main, id) {
  const [m, datasets] = await Promise.all([api(v1Path("models", id)), api("/v1/datasets?limit=200")]);
  const query = `?model_id=${encodeURIComponent(m.id)}`;
  replace(
    main,
    h("p", { class: "crumbs" }, link("/ui/models", "Models")),
    h("h1", {}, m.name),
    facts([
      ["ID", m.id],
      ["Format", `${m.format} (${m.container})`],
      ["Size", fmt.bytes(m.size_bytes)],
      ["SHA-256", h("code", {}, m.sha256)],
      ["Parameters", `${fmt.int(m.params_prunable)} prunable of ${fmt.int(m.params_total)}`],
      ["Uploaded", fmt.time(m.created_at)],
    ]),
    h(
      "p",
      { class: "actions" },
      link(`/ui/jobs/new${query}`, "Prune this model"),
      " ",
      link(`/ui/sweeps/new${query}`, "Sweep sparsities"),
    ),
    h("h2", {}, "Signatures"),
    signatureTables(m.signatures),
    h("h2", {}, "Prunable weights"),
    h("p", { class: "hint" }, "Use these names in do_not_prune and weight_sparsity_map."),
    table(
      [
        ["Name", (w) => h("code", {}, w.name)],
        ["Shape", (w) => fmt.shape(w.shape)],
        ["Parameters", (w) => fmt.int(w.params)],
      ],
      m.prunable,
      { caption: "Prunable weights" },
    ),
    h("h2", {}, "Sensitivity: which layers can take it"),
    sensitivityForm(m, datasets.data, (job) => location.assign(uiPath("jobs", job.id))),
    h("h2", {}, "Files"),
    downloadList([["the uploaded model", v1Path("models", m.id, "download"), `${m.name}`]]),
    actionButton("Delete model", async () => {
      if (!confirm(`Delete model ${m.name}?`)) return "kept";
      await api(v1Path("models", id), { method: "DELETE" });
      location.assign("/ui/models");
    }, { className: "danger" }),
  );
}
