// A player that highlights each word as it is spoken, from the job's word timestamps.

import { h } from "./ui.js";

/** An <audio> element for `blob` and the transcript whose words light up in time. */
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
  return h("div", { class: "player" }, audio, transcript);
}
