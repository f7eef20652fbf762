import { api } from "../api.js";
import { fmt, h, link, replace, statusBadge, table, uiPath } from "../dom.js";

export async function render(main) {
  const sweeps = await api("/v1/sweeps?limit=100");
  replace(
    main,
    h("h1", {}, "Sweeps"),
    h("p", { class: "actions" }, link("/ui/sweeps/new", "Start a sweep")),
    sweeps.count
      ? table(
          [
            ["Sweep", (s) => link(uiPath("sweeps", s.id), s.name || s.id)],
            ["Status", (s) => statusBadge(s.status)],
            ["Jobs (succeeded / all)", (s) => `${s.counts?.succeeded ?? 0} / ${s.jobs?.length ?? 0}`],
            ["Created", (s) => fmt.time(s.created_at)],
          ],
          sweeps.data,
          { caption: "Sweeps" },
        )
      : h("p", {}, "No sweeps yet."),
  );
}
