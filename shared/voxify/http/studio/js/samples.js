// Voice samples: record (with a prompt to read) or upload, with consent; processing shown
// live; then the quality score with each measurement in plain words.

import { call } from "./api.js";
import { describe, scoreWords } from "./quality.js";
import { startRecording } from "./recorder.js";
import { announce, confirmed, field, formatSeconds, guarded, h, showUntilSettled } from "./ui.js";

const PROMPTS = [
  "Some call me nature, others call me mother nature.",
  "The quick brown fox jumps over the lazy dog while the birds sing softly.",
  "Please read this sentence at your usual pace, as if talking to a friend.",
];
const SETTLED = new Set(["ready", "rejected"]);

export function render(main, signal) {
  const list = h("ul", { class: "items", id: "sample-list" });
  const again = guarded(() => showUntilSettled(() => show(list, again), signal, "Every sample is processed."));
  main.append(addSampleSection(again, signal),
    h("section", { "aria-labelledby": "samples-title" }, h("h2", { id: "samples-title" }, "Your samples"), list));
  again();
}

function addSampleSection(added, signal) {
  const name = h("input", { id: "sample-name", type: "text", required: true, value: "My voice" });
  const transcript = h("textarea", { id: "sample-transcript" }, PROMPTS[0]);
  const consent = h("input", { id: "sample-consent", type: "checkbox", required: true });
  const requireConsent = () => {
    if (!consent.checked) throw new Error("Please confirm the speaker's consent first.");
  };
  const upload = async (blob, filename) => {
    requireConsent();
    const form = new FormData();
    form.append("file", blob, filename);
    form.append("name", name.value);
    if (transcript.value.trim()) form.append("description", transcript.value.trim());
    const answer = await call("POST", "voice/samples", form);
    announce(`Sample "${answer.data.name}" uploaded; processing.`);
    added();
  };
  return h("section", { "aria-labelledby": "add-sample-title" },
    h("h2", { id: "add-sample-title" }, "Add a voice sample"),
    field("Name", name),
    h("label", { class: "inline" }, consent,
      "I am the speaker, or the speaker has agreed that this recording may be used to clone their voice."),
    recordFieldset(transcript, requireConsent, upload, signal),
    uploadFieldset(upload),
    field("What is said in the sample", transcript, "Used as the reference text when you make a voice from it."));
}

function recordFieldset(transcript, requireConsent, upload, signal) {
  let prompt = 0;
  const promptText = h("p", { class: "prompt", id: "record-prompt" }, PROMPTS[prompt]);
  const level = h("meter", { id: "record-level", min: 0, max: 1, value: 0, "aria-label": "Microphone level" });
  const elapsed = h("span", { id: "record-elapsed", "aria-live": "off" }, "");
  let recording = null;
  const button = h("button", { type: "button", id: "record-toggle" }, "Start recording");
  const nextPrompt = h("button", { type: "button", class: "secondary", onclick: () => {
    prompt = (prompt + 1) % PROMPTS.length;
    promptText.textContent = transcript.value = PROMPTS[prompt];
  } }, "Another prompt");
  button.addEventListener("click", guarded(async () => {
    if (!recording) {
      requireConsent();
      const started = Date.now();
      recording = await startRecording((value) => {
        level.value = value;
        elapsed.textContent = formatSeconds((Date.now() - started) / 1000);
      });
      signal.addEventListener("abort", () => recording?.stop());
      transcript.value = PROMPTS[prompt];
      button.textContent = "Stop and upload";
      announce("Recording. Read the prompt aloud, then stop.");
      return;
    }
    const blob = await recording.stop();
    recording = null;
    button.textContent = "Start recording";
    await upload(blob, `recording.${blob.type.includes("ogg") ? "ogg" : "webm"}`);
  }));
  return h("fieldset", {}, h("legend", {}, "Record in the browser"),
    h("p", {}, "Read this aloud:"), promptText, nextPrompt,
    h("div", {}, h("label", { for: "record-level" }, "Level"), level, elapsed), button);
}

function uploadFieldset(upload) {
  const file = h("input", { id: "sample-file", type: "file", accept: "audio/*" });
  const send = guarded(async () => {
    if (!file.files.length) throw new Error("Choose an audio file first.");
    await upload(file.files[0], file.files[0].name);
    file.value = "";
  });
  return h("fieldset", {}, h("legend", {}, "Or upload a file"),
    field("Audio file (wav, mp3, flac, ogg, m4a or webm; up to 4 MiB)", file),
    h("button", { type: "button", id: "sample-upload", onclick: send }, "Upload file"));
}

async function show(list, changed) {
  const { data } = await call("GET", "voice/samples?limit=100");
  list.replaceChildren(...(data.length ? data.map((sample) => sampleItem(sample, changed)) : [h("li", {}, "No samples yet.")]));
  return data.some((sample) => !SETTLED.has(sample.status));
}

function sampleItem(sample, changed) {
  const remove = guarded(async () => {
    if (!confirmed(`Delete the sample "${sample.name}"? Its audio is erased.`)) return;
    await call("DELETE", `voice/samples/${sample.sample_id}`);
    changed();
  });
  return h("li", { "data-sample-id": sample.sample_id, "data-status": sample.status },
    h("div", { class: "row" }, h("strong", {}, sample.name),
      h("span", { class: "sample-status" }, statusWords(sample)),
      h("button", { type: "button", class: "danger", onclick: remove, "aria-label": `Delete sample ${sample.name}` }, "Delete")),
    sample.rejection_reasons.length ? h("ul", { class: "poor" }, sample.rejection_reasons.map((r) => h("li", {}, r))) : null,
    sample.quality ? qualityTable(sample.quality) : null);
}

function statusWords(sample) {
  const words = {
    uploading: "waiting for the upload", uploaded: "queued for processing", processing: "being measured",
    ready: "ready", rejected: "cannot be used",
  };
  const score = sample.quality ? ` - quality ${sample.quality.score}/100 (${scoreWords(sample.quality.score)})` : "";
  return `${words[sample.status] || sample.status}${score}`;
}

function qualityTable(quality) {
  return h("table", { class: "quality" },
    h("caption", { class: "visually-hidden" }, "Quality measurements"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Measurement"), h("th", { scope: "col" }, "Value"),
      h("th", { scope: "col" }, "What it means"))),
    h("tbody", {}, describe(quality).map((row) => h("tr", {},
      h("th", { scope: "row" }, row.name), h("td", {}, row.value), h("td", { class: row.grade }, row.words)))));
}
