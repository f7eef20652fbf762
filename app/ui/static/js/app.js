// The dashboard's router: the page comes from the URL, so links and reloads show the same state.
import { forgetKey, getKey } from "./api.js";
import { errorBox, h, replace } from "./dom.js";
import { keyForm, renderKeyStatus } from "./key.js";

const ROUTES = [
  [/^\/ui\/?$/, "home"],
  [/^\/ui\/models\/?$/, "models"],
  [/^\/ui\/models\/([^/]+)$/, "model"],
  [/^\/ui\/datasets\/?$/, "datasets"],
  [/^\/ui\/datasets\/([^/]+)$/, "dataset"],
  [/^\/ui\/jobs\/?$/, "jobs"],
  [/^\/ui\/jobs\/new$/, "job_new"],
  [/^\/ui\/jobs\/([^/]+)$/, "job"],
  [/^\/ui\/sweeps\/?$/, "sweeps"],
  [/^\/ui\/sweeps\/new$/, "sweep_new"],
  [/^\/ui\/sweeps\/([^/]+)$/, "sweep"],
];

function route() {
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(location.pathname);
    if (match) return { page, id: match[1] && decodeURIComponent(match[1]) };
  }
  return null;
}

function markCurrentNav() {
  for (const a of document.querySelectorAll("header nav a")) {
    const here = location.pathname.startsWith(a.getAttribute("href"));
    if (here) a.setAttribute("aria-current", "page");
  }
}

async function show() {
  const main = document.getElementById("main");
  renderKeyStatus();
  markCurrentNav();
  const found = route();
  if (!found) {
    replace(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/ui/" }, "Back to the start")));
    return;
  }
  if (!getKey()) {
    replace(main, keyForm(show));
    return;
  }
  replace(main, h("p", { class: "loading" }, "Loading…"));
  try {
    const module = await import(`./pages/${found.page}.js`);
    await module.render(main, found.id, new URLSearchParams(location.search));
  } catch (err) {
    if (err.status === 401) {
      forgetKey();
      renderKeyStatus();
      replace(main, keyForm(show, `The server refused the key this tab had (${err.message}). Paste a valid key.`));
    } else replace(main, h("h1", {}, "Something went wrong"), errorBox(err));
  }
}

show();
