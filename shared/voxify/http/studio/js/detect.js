// Check a file for Voxify's watermark: anyone holding audio can ask whether Voxify made it.

import { call } from "./api.js";
import { announce, field, guarded, h, sleep } from "./ui.js";

export function render(main, signal) {
  const file = h("input", { id: "detect-file", type: "file", accept: "audio/*", required: true });
  const verdict = h("div", { id: "detect-result", "aria-live": "polite" });
  const form = h("form", { id: "detect-form" },
    field("Audio file", file, "wav, mp3, flac, ogg, m4a or webm; up to 4 MiB and 300 s."),
    h("button", { type: "submit" }, "Check"));
  form.addEventListener("submit", guarded(async () => {
    verdict.replaceChildren(h("p", { class: "muted" }, "Checking…"));
    const upload = new FormData();
    upload.append("file", file.files[0]);
    let { data: detection } = await call("POST", "watermark/detect", upload);
    while (detection.status === "pending" && !signal.aborted) {
      await sleep(1000);
      ({ data: detection } = await call("GET", `watermark/detections/${detection.detection_id}`));
    }
    verdict.replaceChildren(...verdictWords(detection));
    announce(verdict.textContent);
  }));
  main.append(h("section", { "aria-labelledby": "detect-title" },
    h("h2", { id: "detect-title" }, "Was it made by Voxify?"),
    h("p", { class: "muted" }, "Every file Voxify makes carries an inaudible watermark. Check any recording here."),
    form, verdict));
}

function verdictWords(detection) {
  if (detection.status === "failed") {
    return [h("p", { class: "poor" }, `This file could not be checked: ${detection.error || detection.error_code}.`)];
  }
  const confidence = `confidence ${Math.round(detection.confidence * 100)} %`;
  return [
    detection.marked
      ? h("p", { class: "good", "data-marked": "true" }, `This audio carries Voxify's watermark (${confidence}).`)
      : h("p", { "data-marked": "false" }, `No Voxify watermark found (${confidence}).`),
    h("p", { class: "muted" }, `${detection.duration_seconds?.toFixed(1) ?? "?"} s checked with ${detection.scheme} ${detection.version ?? ""}.`),
  ];
}
