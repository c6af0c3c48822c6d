// The studio's shell: hash routes to pages, the signed-in navigation, sign-out.

import { onSignedOut, signedIn, signOut } from "./api.js";
import { clearError, guarded } from "./ui.js";
import * as account from "./account.js";
import * as samples from "./samples.js";
import * as voices from "./voices.js";
import * as script from "./script.js";
import * as library from "./library.js";
import * as batches from "./batches.js";
import * as settings from "./settings.js";
import * as detect from "./detect.js";

const PAGES = {
  "#/samples": samples, "#/voices": voices, "#/script": script, "#/library": library, "#/batches": batches, "#/detect": detect, "#/settings": settings,
};
const HOME = "#/samples";
let leaving = new AbortController();

function show() {
  leaving.abort(); // stops the previous page's polling, streams and microphone
  leaving = new AbortController();
  clearError();
  const main = document.getElementById("main");
  main.replaceChildren();
  document.getElementById("nav").hidden = !signedIn();
  if (!signedIn()) {
    account.render(main, leaving.signal, () => navigate(HOME));
    return;
  }
  const page = PAGES[location.hash] ? location.hash : HOME;
  if (page !== location.hash) history.replaceState(null, "", page);
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  PAGES[page].render(main, leaving.signal);
  main.focus();
}

function navigate(hash) {
  if (location.hash === hash) show();
  else location.hash = hash;
}

window.addEventListener("hashchange", show);
onSignedOut(show);
document.getElementById("sign-out").addEventListener("click", guarded(signOut));
show();
