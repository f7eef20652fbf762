import { api } from "../api.js";
import { h, link, replace } from "../dom.js";
import { jobsTable } from "../jobs_table.js";

export async function render(main) {
  const [models, datasets, jobs] = await Promise.all([
    api("/v1/models?limit=1"),
    api("/v1/datasets?limit=1"),
    api("/v1/jobs?limit=10"),
  ]);
  replace(
    main,
    h("h1", {}, "Shears"),
    h(
      "ul",
      { class: "summary" },
      h("li", {}, link("/ui/models", `${models.count} models`)),
      h("li", {}, link("/ui/datasets", `${datasets.count} datasets`)),
      h("li", {}, link("/ui/jobs", `${jobs.count} jobs`)),
    ),
    h("p", { class: "actions" }, link("/ui/jobs/new", "Submit a pruning job"), " ", link("/ui/sweeps/new", "Start a sweep")),
    h("h2", {}, "Latest jobs"),
    jobsTable(jobs.data),
  );
}
