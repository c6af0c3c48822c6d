// The API client: the envelope unwrapped, tokens kept and refreshed, errors as plain messages.

const API = "/api/v1";
const STORE = "voxify.studio.session";

/** An API failure carrying the envelope's message (never the raw JSON). */
class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

let session = JSON.parse(localStorage.getItem(STORE) || "null");
let refreshing = null;
const signedOutListeners = [];

export const signedIn = () => session !== null;
export const onSignedOut = (listener) => signedOutListeners.push(listener);

function keep(tokens) {
  session = tokens && { access: tokens.access_token, refresh: tokens.refresh_token };
  if (session) localStorage.setItem(STORE, JSON.stringify(session));
  else localStorage.removeItem(STORE);
}

function forget() {
  keep(null);
  signedOutListeners.forEach((listener) => listener());
}

async function envelopeOf(response) {
  const body = await response.json().catch(() => null);
  if (response.ok && body?.success !== false) return body;
  const message = body?.error?.message || `the server answered ${response.status} ${response.statusText}`;
  const details = Array.isArray(body?.error?.details) ? body.error.details : [];
  const fields = details.filter((d) => d.field).map((d) => `${d.field}: ${d.message}`);
  throw new ApiError(fields.length ? `${message} (${fields.join("; ")})` : message, body?.error?.code, response.status);
}

/** Spend the refresh token for a new pair, once however many requests are waiting on it. */
function refresh() {
  refreshing ??= fetch(`${API}/auth/refresh`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  })
    .then(envelopeOf)
    .then((body) => keep(body.data))
    .finally(() => { refreshing = null; });
  return refreshing;
}

/** fetch() of an API path ("job/42") with the access token; on 401 the token is refreshed
 * and the request sent again. */
export async function authorized(path, init = {}) {
  const send = () => fetch(`${API}/${path}`, {
    ...init,
    headers: { ...init.headers, ...(session ? { Authorization: `Bearer ${session.access}` } : {}) },
  });
  let response = await send();
  if (response.status === 401 && session) {
    try {
      await refresh();
    } catch {
      forget();
      throw new ApiError("Your session has ended; please sign in again.", "UNAUTHORIZED", 401);
    }
    response = await send();
  }
  return response;
}

/** Call an API route and return the envelope's `data` (and `message`, `meta` beside it). */
export async function call(method, path, body) {
  const init = { method };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json" };
  }
  return envelopeOf(await authorized(path, init));
}

/** POST `body` to a route that answers with a chunked body (audio as it is made): the
 * Response, or the envelope's message thrown when the route refused. */
export async function streamed(path, body, signal) {
  const response = await authorized(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal,
  });
  if (!response.ok) await envelopeOf(response);
  return response;
}

/** The bytes of a library item (sample or generated audio) as a Blob. */
export async function audioBlob(type, id) {
  const response = await authorized(`library/${type}/${id}/download`);
  if (!response.ok) await envelopeOf(response);
  return response.blob();
}

export async function signIn(email, password) {
  const body = await envelopeOf(await fetch(`${API}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  }));
  keep(body.data);
}

export async function signUp(fields) {
  await envelopeOf(await fetch(`${API}/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(fields),
  }));
  await signIn(fields.email, fields.password);
}

export async function signOut() {
  const token = session?.refresh;
  forget();
  if (token) await call("POST", "auth/logout", { refresh_token: token }).catch(() => {});
}
