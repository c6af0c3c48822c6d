// Microphone recording with a live level meter (MediaRecorder + an AnalyserNode).

/** Start recording; `onLevel(0..1)` gets the input level ten times a second. */
export async function startRecording(onLevel) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const frame = new Float32Array(analyser.fftSize);
  const meter = setInterval(() => {
    analyser.getFloatTimeDomainData(frame);
    const rms = Math.sqrt(frame.reduce((sum, x) => sum + x * x, 0) / frame.length);
    onLevel(Math.min(1, rms * 4)); // speech sits around 0.05-0.25 RMS; scaled to fill the meter
  }, 100);
  recorder.start();
  return {
    /** Stop and release the microphone; resolves with the recording as a Blob. */
    stop: () => new Promise((resolve) => {
      recorder.addEventListener("stop", () => {
        clearInterval(meter);
        stream.getTracks().forEach((track) => track.stop());
        context.close();
        onLevel(0);
        resolve(new Blob(chunks, { type: recorder.mimeType }));
      });
      recorder.stop();
    }),
  };
}
