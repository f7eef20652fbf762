import { api } from "../api.js";
import { fmt, h, link, replace, table, uiPath } from "../dom.js";
import { uploadForm } from "../upload_form.js";

export async function render(main) {
  const datasets = await api("/v1/datasets?limit=200");
  replace(
    main,
    h("h1", {}, "Datasets"),
    uploadForm({
      id: "dataset-upload",
      title: "Upload a dataset",
      accept: ".npz",
      help: "An .npz file with x_train and y_train (optionally x_val and y_val); no pickled objects.",
      path: "/v1/datasets",
      onUploaded: (dataset) => location.assign(uiPath("datasets", dataset.id)),
    }),
    h("h2", {}, `Your datasets (${datasets.count})`),
    datasets.count
      ? table(
          [
            ["Name", (d) => link(uiPath("datasets", d.id), d.name)],
            ["Training / validation examples", (d) => `${fmt.int(d.n_train)} / ${fmt.int(d.n_val)}`],
            ["Size", (d) => fmt.bytes(d.size_bytes)],
            ["Uploaded", (d) => fmt.time(d.created_at)],
          ],
          datasets.data,
          { caption: "Datasets" },
        )
      : h("p", {}, "No datasets yet: upload one above."),
  );
}
