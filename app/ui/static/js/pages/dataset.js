import { api } from "../api.js";
import { actionButton, facts, fmt, h, link, replace, table, v1Path } from "../dom.js";

export async function render(main, id) {
  const d = await api(v1Path("datasets", id));
  const arrays = Object.entries(d.arrays).map(([key, spec]) => ({ key, ...spec }));
  replace(
    main,
    h("p", { class: "crumbs" }, link("/ui/datasets", "Datasets")),
    h("h1", {}, d.name),
    facts([
      ["ID", d.id],
      ["Size", fmt.bytes(d.size_bytes)],
      ["SHA-256", h("code", {}, d.sha256)],
      ["Training examples", fmt.int(d.n_train)],
      ["Validation examples", fmt.int(d.n_val)],
      ["Uploaded", fmt.time(d.created_at)],
    ]),
    h("h2", {}, "Arrays"),
    table(
      [
        ["Key", (a) => h("code", {}, a.key)],
        ["Shape", (a) => fmt.shape(a.shape)],
        ["Dtype", (a) => a.dtype],
        ["Min", (a) => fmt.num(a.min)],
        ["Max", (a) => fmt.num(a.max)],
      ],
      arrays,
      { caption: "Arrays in the .npz" },
    ),
    h(
      "p",
      { class: "actions" },
      link(`/ui/jobs/new?dataset_id=${encodeURIComponent(d.id)}`, "Prune a model with this dataset"),
      " ",
      actionButton("Delete dataset", async () => {
        if (!confirm(`Delete dataset ${d.name}?`)) return "kept";
        await api(v1Path("datasets", id), { method: "DELETE" });
        location.assign("/ui/datasets");
      }, { className: "danger" }),
    ),
  );
}
