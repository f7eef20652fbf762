import { h, replace, uiPath } from "../dom.js";
import { jobFields, submitForm } from "../job_form.js";

export async function render(main, _id, query) {
  const fields = await jobFields(query, "JobCreate");
  replace(
    main,
    h("h1", {}, "Submit a pruning job"),
    h("p", { class: "hint" }, "Every field starts at its default; the API checks what you send and any problem appears next to its field."),
    submitForm({ id: "job-form", fields, submitLabel: "Submit job", path: "/v1/jobs", next: (job) => uiPath("jobs", job.id) }),
  );
}
