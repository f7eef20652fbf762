// Building the page: every value from the API goes in as text (append/textContent), never as
// HTML, so nothing a user uploaded or named can run as script.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const link = (path, text) => h("a", { href: path }, text);
export const uiPath = (...parts) => `/ui/${parts.map(encodeURIComponent).join("/")}`;
export const v1Path = (...parts) => `/v1/${parts.map(encodeURIComponent).join("/")}`;

export function table(columns, rows, { caption, rowClass } = {}) {
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption || "table" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h("tr", { class: rowClass ? rowClass(row) : null }, columns.map(([, cell]) => h("td", {}, cell(row)))),
        ),
      ),
    ),
  );
}

export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, v]) => v !== undefined).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]),
  );
}

export const fmt = {
  bytes(n) {
    if (n === null || n === undefined) return "—";
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  },
  pct: (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)} %`),
  num: (x, digits = 4) => (x === null || x === undefined ? "—" : Number(x).toPrecision(digits)),
  int: (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString("en")),
  time: (iso) => (iso ? new Date(iso).toLocaleString() : "—"),
  shape: (shape) => (shape ? `[${shape.map((d) => (d === null ? "?" : d)).join(", ")}]` : "unknown"),
};

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, status);
}

export function errorBox(error) {
  const code = error.code ? ` (${error.code})` : "";
  return h("div", { class: "error-box", role: "alert" }, h("strong", {}, "Error"), `${code}: ${error.message}`);
}

// A button that runs an async action, shows it is busy, and reports the outcome next to itself.
export function actionButton(label, action, { className } = {}) {
  const out = h("span", { class: "action-result", role: "status" });
  const button = h("button", { type: "button", class: className }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    out.textContent = "…";
    out.classList.remove("bad");
    try {
      out.textContent = (await action()) || "done";
    } catch (err) {
      out.textContent = err.message;
      out.classList.add("bad");
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "action" }, button, out);
}
