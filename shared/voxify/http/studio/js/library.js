// The library: samples and generated audio in one list; filter, search, sort, play inline,
// download, delete with confirmation.

import { audioBlob, call } from "./api.js";
import { announce, confirmed, field, formatSeconds, guarded, h, saveBlob } from "./ui.js";

const TYPE_WORDS = { sample: "Sample", audio: "Generated audio" };
// How the list can be ordered: the API answers newest first; the rest are orders of that answer.
const ORDERS = {
  newest: ["Newest first", (a, b) => b.created_at.localeCompare(a.created_at)],
  oldest: ["Oldest first", (a, b) => a.created_at.localeCompare(b.created_at)],
  name: ["Name, A to Z", (a, b) => a.name.localeCompare(b.name)],
  longest: ["Longest first", (a, b) => (b.duration_seconds ?? 0) - (a.duration_seconds ?? 0)],
};

export function render(main) {
  const type = h("select", { id: "library-type" },
    h("option", { value: "" }, "Everything"), h("option", { value: "sample" }, "Samples"),
    h("option", { value: "audio" }, "Generated audio"));
  const search = h("input", { id: "library-search", type: "search" });
  const order = h("select", { id: "library-sort" },
    ...Object.entries(ORDERS).map(([value, [words]]) => h("option", { value }, words)));
  const list = h("ul", { class: "items", id: "library-list" });
  const count = h("p", { id: "library-count", class: "muted" });
  const reload = guarded(() => show(list, count, type.value, search.value, order.value, reload));
  const filters = h("form", { role: "search", onsubmit: reload },
    h("div", { class: "options" }, field("Show", type), field("Name contains", search), field("Sort", order)),
    h("button", { type: "submit" }, "Filter"));
  type.addEventListener("change", reload);
  order.addEventListener("change", reload);
  main.append(h("section", { "aria-labelledby": "library-title" },
    h("h2", { id: "library-title" }, "Library"), filters, count, list));
  reload();
}

async function show(list, count, type, search, order, changed) {
  const query = new URLSearchParams({ limit: "100" });
  if (type) query.set("type", type);
  if (search) query.set("search", search);
  const { data, meta } = await call("GET", `library?${query}`);
  data.sort(ORDERS[order][1]);
  count.textContent = `${meta.counts.sample} samples, ${meta.counts.audio} generated files.`;
  list.replaceChildren(...(data.length ? data.map((item) => libraryItem(item, changed)) : [h("li", {}, "Nothing here yet.")]));
}

function libraryItem(item, changed) {
  const player = h("div");
  const filename = `${item.name.slice(0, 40)}.${item.format || "audio"}`;
  const play = guarded(async () => {
    const audio = h("audio", { controls: true, src: URL.createObjectURL(await audioBlob(item.type, item.id)),
      "aria-label": `Play ${item.name}` });
    player.replaceChildren(audio);
    await audio.play();
  });
  const download = guarded(async () => saveBlob(await audioBlob(item.type, item.id), filename));
  const remove = guarded(async () => {
    if (!confirmed(`Delete "${item.name}"? This cannot be undone.`)) return;
    await call("DELETE", `library/${item.type}/${item.id}`);
    announce(`Deleted "${item.name}".`);
    changed();
  });
  const button = (label, onclick, className = "secondary") =>
    h("button", { type: "button", class: className, onclick, "aria-label": `${label} ${item.name}` }, label);
  return h("li", { "data-item-id": item.id, "data-type": item.type },
    h("div", { class: "row" }, h("strong", {}, item.name),
      h("span", { class: "muted" }, `${TYPE_WORDS[item.type]}, ${item.status}, ${formatSeconds(item.duration_seconds)}`)),
    h("div", { class: "row" }, button("Play", play), button("Download", download), button("Delete", remove, "danger")),
    player);
}
