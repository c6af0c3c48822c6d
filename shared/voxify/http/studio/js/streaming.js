// Audio played as it renders: the stream route's chunked body goes to an <audio> element
// through MediaSource (MP3 frames), or is scheduled on Web Audio (16-bit PCM, for WAV output).
// Both start on the first chunk, while later sentences are still being made.

import { formatSeconds, h } from "./ui.js";

/** Whether this browser can play `format` as it arrives. */
export function canStream(format) {
  if (format === "mp3") return "MediaSource" in window && MediaSource.isTypeSupported("audio/mpeg");
  if (format === "wav") return "AudioContext" in window;
  return false;
}

/** How the stream route should frame `format` for the player below. */
export const streamFormat = (format) => (format === "wav" ? "pcm" : format);

/** A player for `response`'s body: {element, done}; `done` settles once the last byte played in.
 * `context` (an AudioContext made during the click, so it may start) is needed for WAV. */
export function streamPlayer(format, response, context) {
  return format === "wav" ? pcmPlayer(response, context) : mp3Player(response);
}

function mp3Player(response) {
  const media = new MediaSource();
  const audio = h("audio", { controls: true, id: "stream-audio", "aria-label": "Speech as it renders" });
  audio.src = URL.createObjectURL(media);
  const done = (async () => {
    if (media.readyState !== "open") {
      await new Promise((resolve) => media.addEventListener("sourceopen", resolve, { once: true }));
    }
    const buffer = media.addSourceBuffer("audio/mpeg");
    let started = false;
    for await (const chunk of chunks(response)) {
      buffer.appendBuffer(chunk);
      await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
      if (!started) {
        started = true;
        audio.play().catch(() => {}); // a refused autoplay leaves the controls to the user
      }
    }
    if (media.readyState === "open") media.endOfStream();
  })();
  return { element: audio, done };
}

function pcmPlayer(response, context) {
  const rate = Number(response.headers.get("X-Sample-Rate")) || 24000;
  const heard = h("span", { id: "stream-heard" }, "waiting for the first sentence");
  const stop = h("button", { type: "button", class: "secondary", id: "stream-stop",
    onclick: () => { context.close(); stop.disabled = true; heard.textContent = "stopped"; } }, "Stop playback");
  const element = h("div", { id: "stream-pcm", role: "group", "aria-label": "Speech as it renders" },
    h("p", {}, "Heard so far: ", heard), stop);
  const done = (async () => {
    let at = 0;
    let carry = new Uint8Array(0);
    let arrived = false;
    const meter = setInterval(() => {
      if (context.state === "closed" || (arrived && context.currentTime >= at)) clearInterval(meter);
      if (context.state === "running" && at) heard.textContent = formatSeconds(Math.min(context.currentTime, at));
    }, 200);
    try {
      for await (const chunk of chunks(response)) {
        const bytes = new Uint8Array(carry.length + chunk.length);
        bytes.set(carry);
        bytes.set(chunk, carry.length);
        const count = Math.floor(bytes.length / 2);
        carry = bytes.slice(count * 2);
        if (!count || context.state === "closed") continue;
        const view = new DataView(bytes.buffer, 0, count * 2);
        const buffer = context.createBuffer(1, count, rate);
        const samples = buffer.getChannelData(0);
        for (let i = 0; i < count; i += 1) samples[i] = view.getInt16(i * 2, true) / 32768;
        const source = context.createBufferSource();
        source.buffer = buffer;
        source.connect(context.destination);
        const start = Math.max(at, context.currentTime + 0.05);
        source.start(start);
        at = start + buffer.duration;
      }
    } finally {
      arrived = true;
    }
  })();
  return { element, done };
}

/** The body's chunks as they arrive. */
async function* chunks(response) {
  const reader = response.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (value?.length) yield value;
  }
}
