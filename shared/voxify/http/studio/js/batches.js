// Batches: drop (or choose) a manifest, upload it through the drop folder's presigned form,
// follow every batch's counts live, and download a finished batch's report.

import { call } from "./api.js";
import { announce, field, guarded, h, saveBlob, showUntilSettled } from "./ui.js";

const FORMATS = ["jsonl", "csv", "txt"];
const RUNNING = new Set(["creating", "processing"]);
const STATUS_WORDS = {
  creating: "starting its jobs",
  processing: "rendering",
  completed: "done",
  completed_with_errors: "done, with errors",
  failed: "failed: no line could be rendered",
};
// how long a landed manifest may take to show up as a batch before we say it was refused
const APPEAR_SECONDS = 60;
// the file names manifests had here (the bucket keeps them under generated names)
const NAMES = "voxify.studio.manifest-names";
const fileNames = () => JSON.parse(localStorage.getItem(NAMES) || "{}");

function rememberName(key, name) {
  const names = fileNames();
  names[key] = name;
  localStorage.setItem(NAMES, JSON.stringify(Object.fromEntries(Object.entries(names).slice(-200))));
}

export function render(main, signal) {
  const list = h("ul", { class: "items", id: "batch-list" });
  const waiting = new Map(); // manifest_key -> {name, since}: uploaded, not a batch yet
  const again = guarded(() => showUntilSettled(() => show(list, waiting), signal, "Every batch has finished."));
  main.append(
    submitSection(waiting, again),
    h("section", { "aria-labelledby": "batches-title" }, h("h2", { id: "batches-title" }, "Your batches"), list),
  );
  again();
}

function submitSection(waiting, submitted) {
  const file = h("input", { id: "batch-file", type: "file", accept: ".jsonl,.csv,.txt,application/x-ndjson,text/csv,text/plain" });
  const chosen = h("p", { id: "batch-chosen", class: "muted", "aria-live": "polite" }, "No manifest chosen yet.");
  let manifest = null;
  const choose = (picked) => {
    manifest = picked || null;
    chosen.textContent = manifest ? `Chosen: ${manifest.name} (${manifest.size} bytes).` : "No manifest chosen yet.";
  };
  file.addEventListener("change", () => choose(file.files[0]));
  const drop = h("div", { class: "dropzone", id: "batch-drop" },
    h("p", {}, "Drop a manifest file here, or choose one:"),
    field("Manifest file (.jsonl, .csv or .txt; up to 1 MiB)", file), chosen);
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    choose(event.dataTransfer.files[0]);
  });
  const send = guarded(async () => {
    if (!manifest) throw new Error("Choose or drop a manifest file first.");
    const key = await uploadManifest(manifest);
    waiting.set(key, { name: manifest.name, since: Date.now() });
    rememberName(key, manifest.name);
    announce(`"${manifest.name}" uploaded; the batch starts in a moment.`);
    file.value = "";
    choose(null);
    submitted();
  });
  return h("section", { "aria-labelledby": "batch-title" },
    h("h2", { id: "batch-title" }, "Run a batch"),
    h("p", {}, "A manifest renders many lines at once. In a ", h("code", {}, ".jsonl"),
      " file each line is one JSON object: ", h("code", {}, '{"text": "Hello.", "voice_id": "vox_…", "format": "mp3"}'),
      ". Optional fields: voice_id (else your active voice), format, sample_rate, speed, language and output_name. ",
      "A ", h("code", {}, ".csv"), " file has the same columns; a ", h("code", {}, ".txt"),
      " file is one line of text per utterance in your active voice."),
    drop,
    h("button", { type: "button", id: "batch-submit", onclick: send }, "Start batch"));
}

/** The manifest, POSTed with the drop folder's presigned form; its key in the bucket. */
async function uploadManifest(manifest) {
  const format = manifest.name.split(".").pop().toLowerCase();
  if (!FORMATS.includes(format)) throw new Error("A manifest is a .jsonl, .csv or .txt file.");
  if (!manifest.size) throw new Error(`"${manifest.name}" is empty.`);
  const { data } = await call("POST", "batches/uploads", { format, size_bytes: manifest.size });
  const form = new FormData();
  for (const [name, value] of Object.entries(data.upload.fields)) form.append(name, value);
  form.append("file", manifest);
  let answer;
  try {
    answer = await fetch(data.upload.url, { method: "POST", body: form });
  } catch {
    throw new Error("The manifest could not be uploaded: the storage service did not answer.");
  }
  if (!answer.ok) throw new Error(`The manifest could not be uploaded: ${await storageMessage(answer)}`);
  return data.manifest_key;
}

/** The storage service's reason (an XML error document) in plain words. */
async function storageMessage(answer) {
  const text = await answer.text().catch(() => "");
  const message = new DOMParser().parseFromString(text, "application/xml").querySelector("Message")?.textContent;
  return message || `the storage service answered ${answer.status}`;
}

async function show(list, waiting) {
  const { data: batches } = await call("GET", "batches?limit=50");
  for (const batch of batches) waiting.delete(batch.manifest_key);
  const pending = [...waiting.entries()].map(([key, upload]) => uploadItem(key, upload, waiting));
  const names = fileNames();
  const items = [...pending, ...batches.map((batch) => batchItem(batch, names[batch.manifest_key]))];
  list.replaceChildren(...(items.length ? items : [h("li", {}, "No batches yet.")]));
  return waiting.size > 0 || batches.some((batch) => RUNNING.has(batch.status));
}

function uploadItem(key, upload, waiting) {
  const late = Date.now() - upload.since > APPEAR_SECONDS * 1000;
  if (late) waiting.delete(key);
  return h("li", { "data-manifest-key": key, "data-status": late ? "refused" : "uploaded" },
    h("div", { class: "row" }, h("strong", {}, upload.name),
      h("span", { class: late ? "poor" : "muted" }, late
        ? "did not become a batch: the manifest was refused (is every line valid JSON with a text?)"
        : "uploaded; waiting for the batch to start")));
}

const ended = (counts) => counts.completed + counts.failed + counts.cancelled + counts.rejected;

function batchItem(batch, fileName) {
  const { counts } = batch;
  const done = ended(counts);
  const running = RUNNING.has(batch.status);
  const name = fileName || batch.manifest_key.split("/").pop();
  const report = guarded(async () => {
    const { data } = await call("GET", `batches/${batch.batch_id}?include_lines=true`);
    saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }), `voxify-batch-${batch.batch_id}.json`);
    announce("The batch report is downloading.");
  });
  const summary = `${done} of ${counts.lines} lines done: ${counts.completed} completed, ${counts.failed} failed`
    + `${counts.rejected ? `, ${counts.rejected} refused` : ""}${counts.cancelled ? `, ${counts.cancelled} cancelled` : ""}.`;
  return h("li", { "data-batch-id": batch.batch_id, "data-status": batch.status },
    h("div", { class: "row" },
      h("strong", {}, name),
      h("span", { class: "muted" }, new Date(batch.created_at).toLocaleString()),
      h("span", { class: `batch-status ${batch.status === "completed" ? "good" : running ? "muted" : "poor"}` },
        STATUS_WORDS[batch.status] || batch.status)),
    h("progress", { max: Math.max(1, counts.lines), value: done, "aria-label": `Progress of ${name}` }),
    h("p", { class: "batch-counts" }, summary),
    running ? null : h("button", { type: "button", class: "secondary batch-report", onclick: report,
      "aria-label": `Download the report of ${name}` }, "Download report"));
}
