import { api } from "../api.js";
import { fmt, h, link, replace, table, uiPath } from "../dom.js";
import { uploadForm } from "../upload_form.js";

export async function render(main) {
  const models = await api("/v1/models?limit=200");
  replace(
    main,
    h("h1", {}, "Models"),
    uploadForm({
      id: "model-upload",
      title: "Upload a model",
      accept: ".zip,.tar.gz,.tgz,.keras",
      help: "A SavedModel directory as .zip or .tar.gz, or a .keras file. It is checked before anything loads it.",
      path: "/v1/models",
      onUploaded: (model) => location.assign(uiPath("models", model.id)),
    }),
    h("h2", {}, `Your models (${models.count})`),
    models.count
      ? table(
          [
            ["Name", (m) => link(uiPath("models", m.id), m.name)],
            ["Format", (m) => m.format],
            ["Size", (m) => fmt.bytes(m.size_bytes)],
            ["Prunable / total params", (m) => `${fmt.int(m.params_prunable)} / ${fmt.int(m.params_total)}`],
            ["Uploaded", (m) => fmt.time(m.created_at)],
          ],
          models.data,
          { caption: "Models" },
        )
      : h("p", {}, "No models yet: upload one above."),
  );
}
