// Voices: make a clone from ready samples (with consent), watch its status, choose the
// active voice, delete. A clone held for review says why. A ready voice can be verified:
// its owner reads a challenge phrase aloud, and a passed check shows a "Verified" badge.

import { call } from "./api.js";
import { startRecording } from "./recorder.js";
import { announce, confirmed, field, formatSeconds, guarded, h, showUntilSettled, sleep } from "./ui.js";

const STATUS_WORDS = {
  processing: "being made",
  ready: "ready",
  needs_review: "held for review",
  rejected: "refused",
};

export function render(main, signal) {
  const list = h("ul", { class: "items", id: "voice-list" });
  const form = h("form", { id: "clone-form" });
  main.append(
    h("section", { "aria-labelledby": "clone-title" }, h("h2", { id: "clone-title" }, "Make a voice"), form),
    h("section", { "aria-labelledby": "voices-title" }, h("h2", { id: "voices-title" }, "Your voices"), list),
  );
  const again = guarded(() => showUntilSettled(() => show(list, again, signal), signal, "Every voice is made."));
  guarded(async () => {
    const { data: samples } = await call("GET", "voice/samples?status=ready&limit=100");
    fillCloneForm(form, samples, again);
  })();
  again();
}

function fillCloneForm(form, samples, created) {
  if (!samples.length) {
    form.append(h("p", {}, "You need a ready sample first: add one on the ", h("a", { href: "#/samples" }, "Samples"), " page."));
    return;
  }
  const refText = h("textarea", { id: "clone-ref-text", required: true });
  const choices = samples.map((sample, index) => h("input", {
    type: "checkbox", name: "sample", value: sample.sample_id, checked: index === 0,
    "data-transcript": sample.description || "",
    onchange: () => { refText.value = firstChecked(choices)?.dataset.transcript || refText.value; },
  }));
  refText.value = samples[0].description || "";
  const name = h("input", { id: "clone-name", type: "text", required: true, value: "My voice" });
  const consent = h("input", { id: "clone-consent", type: "checkbox", required: true });
  form.append(
    h("fieldset", {}, h("legend", {}, "Samples to use"),
      samples.map((sample, index) => h("label", { class: "inline" }, choices[index], `${sample.name} (quality ${sample.quality?.score ?? "?"}/100)`))),
    field("Voice name", name),
    field("Exactly what is said in the first chosen sample", refText),
    h("label", { class: "inline" }, consent,
      "The speaker has consented to this voice being cloned. (Stored with the voice: who attested it, and when.)"),
    h("button", { type: "submit" }, "Make voice"),
  );
  form.addEventListener("submit", guarded(async () => {
    const chosen = choices.filter((choice) => choice.checked).map((choice) => choice.value);
    const answer = await call("POST", "voice/clones", {
      sample_ids: chosen, name: name.value, ref_text: refText.value, consent: consent.checked,
    });
    announce(`Voice "${answer.data.name}" is being made.`);
    created();
  }));
}

const firstChecked = (choices) => choices.find((choice) => choice.checked);

async function show(list, changed, signal) {
  const [{ data: clones }, { data: profile }] = await Promise.all([
    call("GET", "voice/clones?limit=100"), call("GET", "auth/profile"),
  ]);
  list.replaceChildren(...(clones.length
    ? clones.map((clone) => voiceItem(clone, clone.clone_id === profile.active_voice_id, changed, signal))
    : [h("li", {}, "No voices yet.")]));
  return clones.some((clone) => clone.status === "processing");
}

function voiceItem(clone, active, changed, signal) {
  const select = guarded(async () => {
    await call("POST", `voice/clones/${clone.clone_id}/select`);
    announce(`"${clone.name}" is now your active voice.`);
    changed();
  });
  const remove = guarded(async () => {
    if (!confirmed(`Delete the voice "${clone.name}"?`)) return;
    await call("DELETE", `voice/clones/${clone.clone_id}`);
    changed();
  });
  const similar = h("div", { class: "similar", "aria-live": "polite" });
  const findSimilar = guarded(async () => {
    similar.replaceChildren(h("p", { class: "muted" }, "Looking for voices that sound alike…"));
    similar.replaceChildren(...similarWords(await similarVoices(clone.clone_id)));
  });
  const verifying = h("div", { class: "verify" });
  const verify = guarded(() => verifyVoice(clone, verifying, changed, signal));
  return h("li", { "data-clone-id": clone.clone_id, "data-status": clone.status, "data-verified": String(Boolean(clone.verified)) },
    h("div", { class: "row" },
      h("strong", {}, clone.name),
      h("span", { class: "clone-status" }, STATUS_WORDS[clone.status] || clone.status),
      clone.verified
        ? h("span", { class: "badge verified-badge", title: `Verified ${clone.verified_at || ""}`.trim() }, "Verified")
        : null,
      active ? h("span", { class: "good" }, "active voice") : null,
      clone.status === "ready" && !active
        ? h("button", { type: "button", class: "secondary", onclick: select, "aria-label": `Use ${clone.name} as the active voice` }, "Make active")
        : null,
      clone.status === "ready"
        ? h("button", { type: "button", class: "secondary similar-voices", onclick: findSimilar, "aria-label": `Voices similar to ${clone.name}` }, "Similar voices")
        : null,
      clone.status === "ready" && !clone.verified
        ? h("button", { type: "button", class: "secondary verify-voice", onclick: verify, "aria-label": `Verify that ${clone.name} is your voice` }, "Verify")
        : null,
      h("button", { type: "button", class: "danger", onclick: remove, "aria-label": `Delete voice ${clone.name}` }, "Delete")),
    similar,
    verifying,
    clone.review ? h("p", { class: clone.status === "ready" ? "muted" : "poor" }, reviewWords(clone)) : null,
    h("p", { class: "muted" }, `Reference text: "${clone.ref_text}"`));
}

function reviewWords(clone) {
  const review = clone.review;
  if (clone.status === "needs_review") {
    return `Held for an administrator's review: ${review.reason}. It cannot speak until it is approved.`;
  }
  if ("approved" in review) {
    return `${review.approved ? "Approved" : "Refused"} by an administrator${review.note ? `: ${review.note}` : ""}.`;
  }
  return review.reason ? `Note: ${review.reason}.` : "";
}

/** The finished search for voices like `cloneId` (it runs in the worker: poll until done). */
async function similarVoices(cloneId) {
  let { data: search } = await call("GET", `voice/clones/${cloneId}/similar`);
  while (search.status === "pending") {
    await sleep(1000);
    ({ data: search } = await call("GET", `voice/searches/${search.search_id}`));
  }
  if (search.status === "failed") throw new Error(`The search failed: ${search.error}`);
  return search.results;
}

function similarWords(results) {
  if (!results.length) return [h("p", { class: "muted" }, "No other voice of yours sounds like this one.")];
  return [h("ul", {}, results.map((result) => h("li", {},
    `${result.name} (${result.kind}): ${Math.round(result.similarity * 100)} % alike`)))];
}

const VERIFY_SETTLED = new Set(["verified", "failed"]);

/** Prove the voice is its owner's: a challenge phrase to read, recorded here, sent, checked
 * by the worker; the outcome in plain words (a pass re-lists the voices, with the badge). */
async function verifyVoice(clone, panel, changed, signal) {
  panel.replaceChildren(h("p", { class: "muted" }, "Asking for a phrase to read…"));
  const { data: challenge } = await call("POST", `voice/clones/${clone.clone_id}/verification`);
  const id = clone.clone_id;
  const level = h("meter", { id: `verify-level-${id}`, min: 0, max: 1, value: 0, "aria-label": "Microphone level" });
  const elapsed = h("span", { class: "verify-elapsed" }, "");
  const state = h("p", { class: "verify-state", role: "status" },
    `Read the phrase in your own voice before ${new Date(challenge.challenge_expires_at).toLocaleTimeString()}.`);
  const button = h("button", { type: "button", class: "verify-record", "aria-describedby": `verify-phrase-${id}` }, "Start recording");
  let recording = null;
  button.addEventListener("click", guarded(async () => {
    if (!recording) {
      const started = Date.now();
      recording = await startRecording((value) => {
        level.value = value;
        elapsed.textContent = formatSeconds((Date.now() - started) / 1000);
      });
      signal.addEventListener("abort", () => recording?.stop());
      button.textContent = "Stop and send";
      state.textContent = "Recording: read the phrase aloud, then stop.";
      announce("Recording. Read the phrase aloud, then stop.");
      return;
    }
    const blob = await recording.stop();
    recording = null;
    button.disabled = true;
    state.textContent = "Sending your recording…";
    const form = new FormData();
    form.append("file", blob, `phrase.${blob.type.includes("ogg") ? "ogg" : "webm"}`);
    let { data: check } = await call("POST", `voice/clones/${id}/verification/recording`, form);
    state.textContent = "Checking that the recording says the phrase, in this voice…";
    while (!VERIFY_SETTLED.has(check.status) && !signal.aborted) {
      await sleep(1000);
      ({ data: check } = await call("GET", `voice/clones/${id}/verification`));
    }
    if (check.status === "verified") {
      announce(`"${clone.name}" is verified as your voice.`);
      changed();
      return;
    }
    state.replaceChildren(h("span", { class: "poor verify-failed", "data-error-code": check.error_code || "" }, failureWords(check)));
    button.replaceWith(h("button", { type: "button", class: "secondary verify-again",
      onclick: guarded(() => verifyVoice(clone, panel, changed, signal)) }, "Try again with a new phrase"));
  }));
  panel.replaceChildren(
    h("p", {}, "Read this aloud, in your own voice:"),
    h("p", { class: "prompt verify-phrase", id: `verify-phrase-${id}`, "data-phrase": challenge.phrase }, challenge.phrase),
    h("div", {}, h("label", { for: level.id }, "Level"), level, elapsed),
    button, state);
  button.focus();
}

function failureWords(check) {
  const heard = check.transcript ? ` We heard: "${check.transcript}".` : "";
  switch (check.error_code) {
    case "PHRASE_MISMATCH":
      return `Not verified: the recording did not say the phrase.${heard} Try again, reading the phrase exactly as written.`;
    case "SPEAKER_MISMATCH":
      return "Not verified: the voice in the recording does not sound like this voice's speaker"
        + `${check.speaker_similarity === null ? "" : ` (${Math.round(check.speaker_similarity * 100)} % alike)`}.`;
    case "SYNTHETIC_RECORDING":
      return "Not verified: the recording is speech that Voxify made, not you reading the phrase live.";
    default:
      return `Not verified: ${check.error || check.error_code || "the check failed"}.`;
  }
}
