// The script editor: blocks of text, each with its voice and a pause after; output options;
// generate with live progress (or play it as it renders, from the stream route); a player
// that highlights words as they are spoken; download.

import { audioBlob, call, streamed } from "./api.js";
import { wordPlayer } from "./player.js";
import { followProgress } from "./progress.js";
import { canStream, streamFormat, streamPlayer } from "./streaming.js";
import { announce, field, guarded, h, saveBlob } from "./ui.js";

const FORMATS = ["mp3", "wav", "flac", "ogg"];
const RATES = [8000, 16000, 22050, 24000, 44100, 48000];
let blockCount = 0;

export function render(main, signal) {
  blockCount = 0;
  const blocks = h("div", { id: "blocks" });
  const result = h("div", { id: "result" });
  const options = optionControls();
  const stream = h("input", { id: "opt-stream", type: "checkbox", "aria-describedby": "opt-stream-hint" });
  const section = h("section", { "aria-labelledby": "script-title" }, h("h2", { id: "script-title" }, "Script"));
  main.append(section, h("section", { "aria-labelledby": "output-title" }, h("h2", { id: "output-title" }, "Output"), result));
  guarded(async () => {
    const { data: clones } = await call("GET", "voice/clones?limit=100");
    const voices = clones.filter((clone) => clone.status === "ready");
    const addBlock = () => blocks.append(blockEditor(voices));
    addBlock();
    section.append(blocks,
      h("button", { type: "button", class: "secondary", id: "add-block", onclick: addBlock }, "Add block"),
      h("fieldset", {}, h("legend", {}, "Options"), h("div", { class: "options" }, Object.values(options).map((o) => o.field)),
        h("label", { class: "inline", for: "opt-stream" }, stream, "Play as it renders"),
        h("small", { id: "opt-stream-hint", class: "muted" },
          "Starts playing with the first sentence, while the rest is still being made (MP3 or WAV). Leaving the page stops the job.")),
      h("button", { type: "button", id: "generate",
        onclick: guarded(() => (stream.checked ? generateStreaming : generate)(blocks, options, result, signal)) },
      "Generate"));
  })();
}

function blockEditor(voices) {
  const n = ++blockCount;
  const text = h("textarea", { id: `block-${n}-text`, class: "block-text", required: true });
  const voice = h("select", { id: `block-${n}-voice`, class: "block-voice" },
    h("option", { value: "" }, "Active voice"),
    voices.map((clone) => h("option", { value: clone.clone_id }, clone.name)));
  const pause = h("input", { id: `block-${n}-pause`, class: "block-pause", type: "number", min: 0, max: 60, step: 0.1, value: 0 });
  const block = h("div", { class: "block", role: "group", "aria-label": `Block ${n}` },
    field(`Block ${n} text`, text), field("Voice", voice), field("Pause after (seconds)", pause),
    h("button", { type: "button", class: "secondary", "aria-label": `Remove block ${n}`, onclick: () => block.remove() }, "Remove"));
  return block;
}

function optionControls() {
  const control = (label, element) => ({ element, field: field(label, element) });
  const select = (id, values, chosen) => h("select", { id },
    values.map((value) => h("option", { value, selected: String(value) === String(chosen) }, String(value))));
  const number = (id, min, max, step, value) => h("input", { id, type: "number", min, max, step, value });
  return {
    output_format: control("Format", select("opt-format", FORMATS, "mp3")),
    sample_rate: control("Sample rate (Hz)", select("opt-rate", RATES, 22050)),
    speed: control("Speed (0.5-2)", number("opt-speed", 0.5, 2, 0.05, 1)),
    pitch_semitones: control("Pitch (semitones)", number("opt-pitch", -12, 12, 0.5, 0)),
    volume: control("Volume (0-2)", number("opt-volume", 0, 2, 0.05, 1)),
    text_language: control("Language (blank: the voice's)", h("input", { id: "opt-language", type: "text", placeholder: "en" })),
  };
}

function jobRequest(blocks, options) {
  const request = {
    blocks: [...blocks.querySelectorAll(".block")].map((block) => ({
      text: block.querySelector(".block-text").value,
      voice_model_id: block.querySelector(".block-voice").value || null,
      wait_after_ms: Math.round(Number(block.querySelector(".block-pause").value) * 1000),
    })),
    config: { include_timestamps: true },
  };
  for (const [name, { element }] of Object.entries(options)) {
    if (element.value === "") continue;
    request[name] = element.type === "number" || name === "sample_rate" ? Number(element.value) : element.value;
  }
  return request;
}

async function generate(blocks, options, result, signal) {
  const { data: job } = await call("POST", "job", jobRequest(blocks, options));
  await settled(job.job_id, progressView(result), signal);
  await showResult(job.job_id, result);
}

/** The same job through the stream route: its audio plays from the first chunk on, then the
 * whole file (with its words and download) appears as for any job. */
async function generateStreaming(blocks, options, result, signal) {
  const request = jobRequest(blocks, options);
  const format = request.output_format;
  if (!canStream(format)) {
    throw new Error(`Playing as it renders works for MP3 or WAV output in this browser, not ${format.toUpperCase()}: `
      + "choose MP3 or WAV, or untick \"Play as it renders\".");
  }
  const context = format === "wav" ? new AudioContext() : null; // made during the click, so it may play
  const view = progressView(result);
  view.message.textContent = "Starting: the first sentence plays as soon as it is made.";
  const response = await streamed("tts/synthesize/stream", { ...request, stream_format: streamFormat(format) }, signal);
  const jobId = response.headers.get("X-Job-Id");
  const player = streamPlayer(format, response, context);
  result.append(h("div", { id: "stream-player", "data-job-id": jobId }, h("p", {}, "Playing as it renders:"), player.element));
  announce("Playing the first sentence while the rest is made.");
  await Promise.all([settled(jobId, view, signal), player.done]);
  await showResult(jobId, result);
}

function progressView(result) {
  const bar = h("progress", { id: "job-progress", max: 100, value: 0, "aria-label": "Generation progress" });
  const message = h("p", { id: "job-message", "aria-live": "polite" }, "Queued.");
  result.replaceChildren(bar, message);
  return { bar, message };
}

/** Follow the job's progress into `view` until it ends; an end other than completed is thrown. */
async function settled(jobId, { bar, message }, signal) {
  const last = await followProgress(jobId, (event) => {
    bar.value = event.progress;
    message.textContent = `${Math.round(event.progress)} % - ${event.message || event.status}`;
  }, signal);
  if (last?.status !== "completed") {
    throw new Error(last?.error_message || `The job ended ${last?.status || "without an answer"}.`);
  }
}

async function showResult(jobId, result) {
  const [{ data: job }, blob] = await Promise.all([call("GET", `job/${jobId}`), audioBlob("audio", jobId)]);
  const words = job.timestamps?.words || [];
  const download = h("button", { type: "button", id: "download", onclick: () => saveBlob(blob, `voxify-${jobId}.${job.output_format}`) },
    `Download ${job.output_format.toUpperCase()}`);
  result.append(
    h("p", {}, `Done: ${job.duration_seconds.toFixed(1)} s of audio by the ${job.engine?.name || "default"} engine.`),
    wordPlayer(blob, words, "Generated speech"), download);
  announce("Your audio is ready to play.");
}
