import { api, forgetKey, getKey, setKey } from "./api.js";
import { h, replace } from "./dom.js";

const CREATE_KEY = "python -m app.admin create-api-key --tenant NAME";

function refusal(err) {
  if (err.status === 401) {
    return `The server refused this key (${err.message}). Check that you pasted all of it, or ask the operator for a new one.`;
  }
  return `Could not check the key: ${err.message}`;
}

// method=post: should the script ever not run, the browser posts the key in a body, never in a URL.
export function keyForm(onAccepted, problem = "") {
  const input = h("input", {
    id: "api-key",
    name: "api-key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "api-key-help api-key-error",
  });
  const error = h("p", { id: "api-key-error", class: "field-error", role: "alert" }, problem);
  const form = h(
    "form",
    { method: "post", class: "card key-form", "aria-labelledby": "key-title" },
    h("h1", { id: "key-title" }, "Your API key"),
    h("label", { for: "api-key" }, "API key"),
    input,
    h(
      "p",
      { id: "api-key-help", class: "hint" },
      "Kept in this browser tab's session storage and sent only in the Authorization header. ",
      `An operator creates one with: ${CREATE_KEY}`,
    ),
    error,
    h("button", { type: "submit" }, "Use this key"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    setKey(key);
    try {
      await api("/v1/models?limit=1");
    } catch (err) {
      if (err.status === 401) forgetKey();
      error.textContent = refusal(err);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    renderKeyStatus();
    onAccepted();
  });
  setTimeout(() => input.focus());
  return form;
}

export function renderKeyStatus() {
  const box = document.getElementById("key-status");
  if (!getKey()) return replace(box, h("span", {}, "No API key"));
  const button = h("button", { type: "button", class: "link-button" }, "Forget key");
  button.addEventListener("click", () => {
    forgetKey();
    location.reload();
  });
  return replace(box, h("span", {}, "Key set"), " ", button);
}
