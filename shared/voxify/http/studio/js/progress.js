// A job's progress over its Server-Sent-Events stream. EventSource cannot send the
// Authorization header, so the stream is read with fetch(); like EventSource, it reconnects
// with Last-Event-ID when the server ends a stream early (it does every ~25 s).

import { authorized } from "./api.js";
import { sleep } from "./ui.js";

/** Calls `onProgress(event)` for each progress event; resolves with the last one once the
 * job has ended (the stream's {"event": "complete"}). */
export async function followProgress(jobId, onProgress, signal) {
  let lastId = null;
  let retryMs = 1000;
  let last = null;
  while (!signal.aborted) {
    const headers = { Accept: "text/event-stream", ...(lastId ? { "Last-Event-ID": lastId } : {}) };
    const response = await authorized(`job/${jobId}/progress`, { headers, signal });
    if (!response.ok) throw new Error(`progress stream answered ${response.status}`);
    for await (const event of events(response.body)) {
      if (event.id) lastId = event.id;
      if (event.retry) retryMs = event.retry;
      if (!event.data) continue;
      const data = JSON.parse(event.data);
      if (data.event === "complete" || data.event === "gone") return last;
      last = data;
      onProgress(data);
    }
    await sleep(retryMs);
  }
  return last;
}

/** The events of a text/event-stream body: {id, retry, data}. */
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      yield parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

function parse(block) {
  const event = { id: null, retry: null, data: "" };
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "id") event.id = value;
    else if (name === "retry") event.retry = Number(value);
    else if (name === "data") event.data += (event.data ? "\n" : "") + value;
  }
  return event;
}
