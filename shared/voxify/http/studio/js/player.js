// A player that draws the audio's waveform and highlights each word as it is spoken, from
// the job's word timestamps. The waveform shows how far playback is; a click on it seeks.

import { h } from "./ui.js";

const WAVE_HEIGHT = 64;
const PLAYED = "#2346c4";
const AHEAD = "#b9c2e6";

/** An <audio> element for `blob`, its waveform, and the transcript whose words light up in time. */
export function wordPlayer(blob, words, label) {
  const audio = h("audio", { controls: true, src: URL.createObjectURL(blob), "aria-label": label });
  const spans = words.map((word) => h("span", {}, word.word));
  const transcript = h("p", { class: "transcript", "aria-hidden": "true" }, spans.flatMap((span) => [span, " "]));
  let current = -1;
  const highlight = () => {
    const now = audio.currentTime;
    const index = words.findIndex((word) => now >= word.start_time && now < word.end_time);
    if (index === current) return;
    spans[current]?.classList.remove("spoken");
    spans[index]?.classList.add("spoken");
    current = index;
  };
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
  audio.addEventListener("ended", () => { spans[current]?.classList.remove("spoken"); current = -1; });
  return h("div", { class: "player" }, waveform(blob, audio), audio, transcript);
}

/** A canvas of the audio's peaks, coloured up to the playback position. Screen readers and
 * keyboards use the audio controls; the canvas only adds a picture and a mouse shortcut. */
function waveform(blob, audio) {
  const canvas = h("canvas", { class: "waveform", height: WAVE_HEIGHT, "aria-hidden": "true" });
  let peaks = null;
  const draw = () => {
    if (!peaks) return;
    const context = canvas.getContext("2d");
    const played = audio.duration ? audio.currentTime / audio.duration : 0;
    context.clearRect(0, 0, canvas.width, canvas.height);
    peaks.forEach((peak, x) => {
      const bar = Math.max(1, peak * canvas.height);
      context.fillStyle = x / peaks.length < played ? PLAYED : AHEAD;
      context.fillRect(x, (canvas.height - bar) / 2, 1, bar);
    });
  };
  canvas.addEventListener("click", (event) => {
    if (!audio.duration) return;
    audio.currentTime = (event.offsetX / canvas.clientWidth) * audio.duration;
  });
  audio.addEventListener("timeupdate", draw);
  audio.addEventListener("seeked", draw);
  requestAnimationFrame(async () => {
    canvas.width = Math.max(100, canvas.clientWidth);
    peaks = peaksOf(await decoded(blob), canvas.width);
    draw();
  });
  return canvas;
}

async function decoded(blob) {
  // an offline context decodes without playing anything and needs no user gesture
  const context = new OfflineAudioContext(1, 1, 16000);
  return context.decodeAudioData(await blob.arrayBuffer());
}

/** The loudest sample of each of `columns` equal slices of the first channel, scaled to 0..1. */
function peaksOf(buffer, columns) {
  const samples = buffer.getChannelData(0);
  const step = Math.max(1, Math.floor(samples.length / columns));
  const peaks = Array.from({ length: columns }, (_, column) => {
    let peak = 0;
    for (let i = column * step; i < Math.min(samples.length, (column + 1) * step); i += 1) {
      peak = Math.max(peak, Math.abs(samples[i]));
    }
    return peak;
  });
  const loudest = Math.max(...peaks) || 1;
  return peaks.map((peak) => peak / loudest);
}
