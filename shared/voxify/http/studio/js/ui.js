// Small DOM helpers shared by every page: element building, announcements, error display.

/** Build an element: h("button", {type: "button", onclick}, "Save"). Strings become text. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** A labelled form control; the label's `for` ties it to the control for screen readers. */
export function field(label, control, hint) {
  const hintElement = hint && h("small", { id: `${control.id}-hint`, class: "muted" }, hint);
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", {}, h("label", { for: control.id }, label), control, hintElement);
}

/** Say something to screen-reader users without moving their focus. */
export function announce(message) {
  document.getElementById("status").textContent = message;
}

export function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById("error");
  box.hidden = true;
  box.textContent = "";
}

/** Run an async action from a button or form, showing its failure's plain message. */
export function guarded(action) {
  return async (event) => {
    event?.preventDefault?.();
    clearError();
    try {
      await action(event);
    } catch (error) {
      showError(error.message || String(error));
    }
  };
}

/** Ask before something that cannot be undone. */
export const confirmed = (question) => window.confirm(question);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Call `show` (which renders and says whether anything is still in progress) once a
 * second until nothing is, or the page is left; then tell screen-reader users. */
export async function showUntilSettled(show, signal, settledMessage) {
  let waited = false;
  while (!signal.aborted && (await show())) {
    waited = true;
    await sleep(1000);
  }
  if (waited && !signal.aborted) announce(settledMessage);
}

export function formatSeconds(seconds) {
  return seconds === null || seconds === undefined ? "" : `${Number(seconds).toFixed(1)} s`;
}

/** Offer a Blob as a file download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
