import { download } from "./api.js";
import { actionButton, fmt, h } from "./dom.js";

// One button per file; each fetches with the Bearer header and saves the blob.
export function downloadList(items) {
  return h(
    "ul",
    { class: "downloads" },
    items.map(([label, path, fallbackName]) =>
      h(
        "li",
        {},
        actionButton(`Download ${label}`, async () => {
          const { name, size } = await download(path, fallbackName);
          return `saved ${name} (${fmt.bytes(size)})`;
        }),
      ),
    ),
  );
}
