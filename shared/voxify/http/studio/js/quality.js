// A sample's measured quality in plain words. The limits follow the worker's own
// (voxify_worker/audio/quality.py), so a measurement shown as a problem here is one the
// score or a rejection counts too.

const percent = (ratio) => `${Math.round(ratio * 100)} %`;

const MEASUREMENTS = [
  {
    name: "Length", value: (q) => `${q.duration_seconds.toFixed(1)} s`,
    verdict: (q) => q.duration_seconds < 1 ? ["poor", "too short: record at least a few seconds"]
      : q.duration_seconds < 5 ? ["fair", "short: 5 to 12 seconds clones best"]
      : ["good", "a good length"],
  },
  {
    name: "Speech", value: (q) => `${percent(q.speech_ratio)} of the clip`,
    verdict: (q) => q.speech_ratio < 0.2 ? ["poor", "too little speech: mostly silence or other sound"]
      : q.speech_ratio < 0.6 ? ["fair", "long pauses: speak steadily through the prompt"]
      : ["good", "mostly speech"],
  },
  {
    name: "Loudness", value: (q) => q.loudness_lufs === null ? "silent" : `${q.loudness_lufs.toFixed(0)} LUFS`,
    verdict: (q) => q.loudness_lufs === null || q.loudness_lufs < -35 ? ["poor", "too quiet: move closer to the microphone"]
      : q.loudness_lufs > -10 ? ["fair", "very loud"]
      : ["good", "a good level"],
  },
  {
    name: "Clipping", value: (q) => `${(q.clipping_ratio * 100).toFixed(2)} % of samples (peak ${q.peak_dbfs.toFixed(1)} dBFS)`,
    verdict: (q) => q.clipping_ratio > 0.01 ? ["poor", "clipped: turn the input gain down"]
      : q.clipping_ratio > 0 ? ["fair", "a little clipping"]
      : ["good", "no clipping"],
  },
  {
    name: "Background noise", value: (q) => `speech ${q.snr_db.toFixed(0)} dB above the noise`,
    verdict: (q) => q.snr_db < 12 ? ["poor", "too noisy: find a quieter room"]
      : q.snr_db < 30 ? ["fair", "some background noise"]
      : ["good", "a quiet background"],
  },
  {
    name: "Voice-likeness", value: (q) => `spectral flatness ${q.spectral_flatness.toFixed(2)}`,
    verdict: (q) => q.spectral_flatness > 0.3 ? ["poor", "sounds like noise, not a voice"]
      : ["good", "sounds like a voice"],
  },
];

export function scoreWords(score) {
  return score >= 80 ? "very good" : score >= 50 ? "usable" : "poor";
}

/** One row per measurement: its name, its value, and what it means. */
export function describe(quality) {
  return MEASUREMENTS.map(({ name, value, verdict }) => {
    const [grade, words] = verdict(quality);
    return { name, value: value(quality), grade, words };
  });
}
