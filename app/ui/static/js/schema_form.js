// Form fields built from the API's own JSON schema (in /openapi.json): each field shows its
// default and its meaning as the contract states them. Values are sent as typed; the API alone
// validates them, and its message is shown next to the field it names.
import { openapiDocument } from "./api.js";
import { h } from "./dom.js";

function resolve(doc, schema) {
  const ref = schema && schema.$ref;
  return ref ? doc.components.schemas[ref.split("/").pop()] : schema;
}

// The object schema among JobCreate's `anyOf` alternatives for `property` (hparams, training).
export async function objectSchema(schemaName, property) {
  const doc = await openapiDocument();
  const prop = resolve(doc, doc.components.schemas[schemaName]?.properties?.[property]);
  const options = prop ? [prop, ...(prop.anyOf || [])].map((s) => resolve(doc, s)) : [];
  return options.find((s) => s && s.properties) || null;
}

export async function hasProperty(schemaName, property) {
  const doc = await openapiDocument();
  return Boolean(doc.components.schemas[schemaName]?.properties?.[property]);
}

function kindOf(prop) {
  const options = prop.anyOf || [prop];
  const choices = [];
  let nullable = false;
  let type = "string";
  for (const option of options) {
    if (option.type === "null") nullable = true;
    else if (option.enum) choices.push(...option.enum);
    else if (option.const !== undefined) choices.push(option.const);
    else if (option.type === "boolean") choices.push(true, false);
    else type = option.type;
  }
  const free = options.some((o) => !["null", "boolean"].includes(o.type) && o.enum === undefined && o.const === undefined);
  if (choices.length && !free) return { kind: "choice", choices, nullable };
  return { kind: type, nullable };
}

const shown = (value) => (Array.isArray(value) ? value.join("\n") : value === null || value === undefined ? "" : String(value));
const described = (value) => (value === null || value === undefined ? "null" : JSON.stringify(value));

function control(id, kind, prop) {
  const value = shown(prop.default);
  if (kind.kind === "choice") {
    const options = kind.nullable ? ["", ...kind.choices] : kind.choices;
    return h("select", { id }, options.map((c) => h("option", { value: String(c), selected: String(c) === value }, c === "" ? "(none)" : String(c))));
  }
  if (kind.kind === "array") return h("textarea", { id, rows: "2", spellcheck: "false" }, value);
  const numeric = kind.kind === "integer" || kind.kind === "number";
  return h("input", { id, type: "text", value, spellcheck: "false", inputmode: numeric ? (kind.kind === "integer" ? "numeric" : "decimal") : null, autocomplete: "off" });
}

// Typed as the user typed it: a number if it reads as one, otherwise the text itself, for the
// API to accept or refuse with its own message.
function read(el, kind) {
  const raw = el.value.trim();
  if (raw === "") return kind.nullable ? null : kind.kind === "array" ? [] : undefined;
  if (kind.kind === "array") return raw.split("\n").map((s) => s.trim()).filter(Boolean);
  if (kind.kind === "choice" || kind.kind === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
  if ((kind.kind === "integer" || kind.kind === "number") && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

export class SchemaFieldset {
  constructor(prefix, legend, schema) {
    this.prefix = prefix;
    this.fields = Object.entries(schema.properties).map(([name, prop]) => ({ name, prop, kind: kindOf(prop) }));
    this.element = h("fieldset", { class: "schema-fields" }, h("legend", {}, legend), this.fields.map((f) => this.row(f)));
  }

  id(name) {
    return `${this.prefix}-${name}`;
  }

  row(field) {
    const id = this.id(field.name);
    field.input = control(id, field.kind, field.prop);
    field.error = h("p", { id: `${id}-error`, class: "field-error" });
    field.input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
    field.input.setAttribute("name", `${this.prefix}.${field.name}`);
    const list = field.kind.kind === "array" ? " One per line." : "";
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, h("code", {}, field.name)),
      field.input,
      h("p", { id: `${id}-help`, class: "hint" }, `${field.prop.description || ""}${list} Default: `, h("code", {}, described(field.prop.default)), "."),
      field.error,
    );
  }

  // Only what differs from the default: the job stores the resolved values anyway.
  values() {
    const out = {};
    for (const field of this.fields) {
      const value = read(field.input, field.kind);
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(field.prop.default ?? null)) out[field.name] = value;
    }
    return out;
  }

  clearErrors() {
    for (const field of this.fields) {
      field.error.textContent = "";
      field.input.removeAttribute("aria-invalid");
    }
  }

  // True when `name` is one of this fieldset's fields and the message went next to it.
  showError(name, message) {
    const field = this.fields.find((f) => f.name === name);
    if (!field) return false;
    field.error.textContent = message;
    field.input.setAttribute("aria-invalid", "true");
    return true;
  }

  // True when one of this fieldset's fields had an error and now has the focus.
  focusFirstError() {
    const field = this.fields.find((f) => f.error.textContent);
    field?.input.focus();
    return Boolean(field);
  }
}
