// Settings: the profile, API keys (each shown once, when made) and webhooks with their
// delivery log; for administrators, the review queue and runtime settings (admin.js).

import * as admin from "./admin.js";
import { call } from "./api.js";
import { announce, confirmed, field, guarded, h } from "./ui.js";

const SCOPES = ["jobs", "voices", "library", "webhooks", "account", "read"];
const EVENTS = ["Job State Change", "Batch State Change", "Voice Sample State Change", "Voice Clone State Change"];

export function render(main) {
  const keys = h("ul", { class: "items", id: "key-list" });
  const hooks = h("ul", { class: "items", id: "webhook-list" });
  const showKeys = guarded(() => listKeys(keys, showKeys));
  const showHooks = guarded(() => listWebhooks(hooks, showHooks));
  main.append(
    section("profile-title", "Profile", profileForm()),
    section("keys-title", "API keys", keyForm(showKeys), keys),
    section("webhooks-title", "Webhooks", webhookForm(showHooks), hooks),
  );
  showKeys();
  showHooks();
  guarded(async () => {
    const { data: profile } = await call("GET", "auth/profile");
    if (profile.role === "admin") main.append(...admin.sections());
  })();
}

const section = (id, title, ...content) =>
  h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...content);

const checkboxes = (name, values) => values.map((value) =>
  h("label", { class: "inline" }, h("input", { type: "checkbox", name, value, checked: true }), value));

const checkedValues = (form, name) =>
  [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);

/** A secret the API shows once: in a read-only field, with the warning said aloud. */
function shownOnce(id, label, secret) {
  const input = h("input", { id, type: "text", readOnly: true, value: secret });
  announce(`${label} shown once: copy it now.`);
  return h("div", { class: "prompt" }, field(`${label} (shown once: copy it now)`, input));
}

function profileForm() {
  const first = h("input", { id: "profile-first", type: "text", required: true, autocomplete: "given-name" });
  const last = h("input", { id: "profile-last", type: "text", required: true, autocomplete: "family-name" });
  const email = h("p", { class: "muted" });
  guarded(async () => {
    const { data } = await call("GET", "auth/profile");
    [first.value, last.value, email.textContent] = [data.first_name, data.last_name, `Signed in as ${data.email}`];
  })();
  const save = guarded(async () => {
    await call("PATCH", "auth/profile", { first_name: first.value, last_name: last.value });
    announce("Profile saved.");
  });
  return h("form", { id: "profile-form", onsubmit: save }, email, field("First name", first), field("Last name", last),
    h("button", { type: "submit" }, "Save profile"));
}

function keyForm(changed) {
  const name = h("input", { id: "key-name", type: "text", required: true });
  const secret = h("div", { id: "key-secret" });
  const form = h("form", { id: "key-form" }, field("Key name", name),
    h("fieldset", {}, h("legend", {}, "What it may do"), checkboxes("scope", SCOPES)),
    h("button", { type: "submit" }, "Make API key"), secret);
  form.addEventListener("submit", guarded(async () => {
    const { data } = await call("POST", "api-keys", { name: name.value, scopes: checkedValues(form, "scope") });
    secret.replaceChildren(shownOnce("new-key", "Your new API key", data.key));
    changed();
  }));
  return form;
}

async function listKeys(list, changed) {
  const { data } = await call("GET", "api-keys");
  list.replaceChildren(...(data.length ? data.map((key) => h("li", { "data-key-id": key.key_id },
    h("div", { class: "row" }, h("strong", {}, key.name), h("code", {}, `${key.prefix}...`),
      h("span", { class: "muted" }, `${key.scopes.join(", ")}; last used ${key.last_used_at || "never"}`),
      h("button", { type: "button", class: "danger", "aria-label": `Delete API key ${key.name}`, onclick: guarded(async () => {
        if (!confirmed(`Delete the API key "${key.name}"? Anything using it stops working.`)) return;
        await call("DELETE", `api-keys/${key.key_id}`);
        changed();
      }) }, "Delete"))))
    : [h("li", {}, "No API keys.")]));
}

function webhookForm(changed) {
  const url = h("input", { id: "webhook-url", type: "url", required: true, placeholder: "https://example.com/hooks/voxify" });
  const secret = h("div", { id: "webhook-secret" });
  const form = h("form", { id: "webhook-form" }, field("Address (https)", url),
    h("fieldset", {}, h("legend", {}, "Events to send"), checkboxes("event", EVENTS)),
    h("button", { type: "submit" }, "Add webhook"), secret);
  form.addEventListener("submit", guarded(async () => {
    const events = checkedValues(form, "event");
    const { data } = await call("POST", "webhooks", {
      url: url.value, events: events.length === EVENTS.length ? ["*"] : events,
    });
    secret.replaceChildren(shownOnce("new-webhook-secret", "Its signing secret", data.secret));
    changed();
  }));
  return form;
}

async function listWebhooks(list, changed) {
  const { data } = await call("GET", "webhooks");
  list.replaceChildren(...(data.length ? data.map((hook) => webhookItem(hook, changed)) : [h("li", {}, "No webhooks.")]));
}

function webhookItem(hook, changed) {
  const log = h("div");
  const deliveries = guarded(async () => {
    const { data } = await call("GET", `webhooks/${hook.webhook_id}/deliveries`);
    log.replaceChildren(data.length ? deliveryTable(data) : h("p", { class: "muted" }, "Nothing delivered yet."));
  });
  const remove = guarded(async () => {
    if (!confirmed(`Delete the webhook to ${hook.url}?`)) return;
    await call("DELETE", `webhooks/${hook.webhook_id}`);
    changed();
  });
  return h("li", { "data-webhook-id": hook.webhook_id },
    h("div", { class: "row" }, h("strong", {}, hook.url),
      h("span", { class: hook.status === "active" ? "good" : "poor" }, hook.disabled_reason || hook.status),
      h("span", { class: "muted" }, hook.events.join(", "))),
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", onclick: deliveries, "aria-label": `Deliveries to ${hook.url}` }, "Deliveries"),
      h("button", { type: "button", class: "danger", onclick: remove, "aria-label": `Delete webhook ${hook.url}` }, "Delete")),
    log);
}

function deliveryTable(deliveries) {
  const header = ["Event", "Status", "Attempts", "Last answer", "When"];
  return h("table", {},
    h("thead", {}, h("tr", {}, header.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, deliveries.map((d) => h("tr", {},
      h("td", {}, d.detail_type), h("td", {}, d.status), h("td", {}, String(d.attempts)),
      h("td", {}, d.last_error || (d.last_status_code ? `HTTP ${d.last_status_code}` : "")), h("td", {}, d.updated_at)))));
}
