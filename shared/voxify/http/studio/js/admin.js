// For administrators, under Settings: the review queue of clones held because they sound
// like another account's voice (approve or refuse, with a note), and the runtime settings.

import { call } from "./api.js";
import { announce, field, guarded, h } from "./ui.js";

const CONFIG_WORDS = {
  rate_limit_per_minute: "Requests per minute per user",
  daily_sample_quota: "Samples per user per day",
  daily_search_quota: "Voice searches per user per day",
  daily_job_quota: "Jobs per user per day",
  daily_detection_quota: "Watermark checks per user per day",
  default_engine: "Default engine",
  watermark_outputs: "Watermark every output",
};

/** The administrator's sections, filled once their data arrives. */
export function sections() {
  const queue = h("ul", { class: "items", id: "review-list" });
  const config = h("div", { id: "runtime-config" });
  const showQueue = guarded(() => listHeld(queue, showQueue));
  showQueue();
  guarded(() => showConfig(config))();
  return [
    h("section", { "aria-labelledby": "review-title" }, h("h2", { id: "review-title" }, "Review queue"),
      h("p", { class: "muted" }, "Voices held because they sound like another account's voice. They cannot speak until approved."),
      queue),
    h("section", { "aria-labelledby": "config-title" }, h("h2", { id: "config-title" }, "Runtime settings"), config),
  ];
}

async function listHeld(list, changed) {
  const { data: held } = await call("GET", "admin/clones?status=needs_review&limit=100");
  list.replaceChildren(...(held.length ? held.map((clone) => heldItem(clone, changed)) : [h("li", {}, "Nothing is waiting for review.")]));
}

function heldItem(clone, changed) {
  const note = h("input", { id: `note-${clone.clone_id}`, type: "text", maxLength: 1000 });
  const decide = (approve) => guarded(async () => {
    await call("POST", `admin/clones/${clone.clone_id}/review`, { approve, note: note.value || null });
    announce(`"${clone.name}" ${approve ? "approved" : "refused"}.`);
    changed();
  });
  const match = clone.review_match || {};
  const resembles = match.clone_id ? `clone ${match.clone_id}` : match.sample_id ? `sample ${match.sample_id}` : "another voice";
  return h("li", { "data-clone-id": clone.clone_id },
    h("div", { class: "row" }, h("strong", {}, clone.name), h("span", { class: "muted" }, `made ${clone.created_at}`)),
    h("p", {}, `Held: ${clone.review?.reason || "resembles another account's voice"}.`),
    h("p", { class: "muted" }, `Resembles ${resembles} of user ${match.user_id || "?"}${match.verified_voice ? " (a verified voice)" : ""}.`),
    field("Note to the owner (optional)", note),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: decide(true), "aria-label": `Approve ${clone.name}` }, "Approve"),
      h("button", { type: "button", class: "danger", onclick: decide(false), "aria-label": `Refuse ${clone.name}` }, "Refuse")));
}

async function showConfig(box) {
  const { data: config } = await call("GET", "admin/config");
  box.replaceChildren(h("table", {}, h("tbody", {}, Object.entries(config).map(([key, value]) =>
    h("tr", {}, h("th", { scope: "row" }, CONFIG_WORDS[key] || key), h("td", {}, typeof value === "boolean" ? (value ? "yes" : "no") : String(value)))))));
}
