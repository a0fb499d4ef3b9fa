// The videojob web page: the same HTTP API as any program, no build step.
// The key travels in an Authorization header, which EventSource and <video src> cannot send;
// so events are read with fetch() and the player gets presigned S3 URLs from ?redirect=false.
"use strict";

const SAMPLE = `# How a rainbow forms

Sunlight looks white, but it is a mix of every colour.

## Light bends in a raindrop

- Light slows down when it enters water
- Each colour bends by a different amount
- Violet bends the most, red the least

When sunlight enters a raindrop, it bends, reflects off the back, and bends again on the way out.

## The angle of the bow

$$\\theta \\approx 42^\\circ$$

Red light leaves the drop at about forty-two degrees, which is why a rainbow is always a circle around the point opposite the sun.

## Takeaways

- White light is every colour together
- Raindrops split it by bending each colour differently
`;

const $ = (id) => document.getElementById(id);
const state = { key: null, current: null, abort: null };

function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${state.key}` }, options.headers || {});
  return fetch(path, Object.assign({}, options, { headers }));
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    const error = body.error || {};
    return error.param ? `${error.message} (field: ${error.param})` : error.message || response.statusText;
  } catch (_) {
    return `${response.status} ${response.statusText}`;
  }
}

function show(id, visible) { $(id).hidden = !visible; }

// --- the key ---------------------------------------------------------------------------

async function useKey(key, remember) {
  state.key = key.trim();
  const response = await api("/v1/videos?limit=1");
  if (!response.ok) {
    $("key-status").textContent = await errorMessage(response);
    state.key = null;
    return;
  }
  (remember ? localStorage : sessionStorage).setItem("videojob-key", state.key);
  $("key-status").textContent = "Key accepted.";
  show("create-section", true);
  show("history-section", true);
  refreshHistory();
}

// --- creating ----------------------------------------------------------------------------

function requestBody() {
  const source = document.querySelector("input[name=source]:checked").value;
  const [provider, name] = $("voice").value.split(":");
  const body = {
    quality: $("quality").value, orientation: $("orientation").value, theme: $("theme").value, voice: { provider },
  };
  if (name) body.voice.name = name;
  body[source] = $(source).value;
  return body;
}

async function createVideo(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  $("create-button").disabled = true;
  try {
    const response = await api("/v1/videos", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(requestBody()),
    });
    if (!response.ok) {
      $("form-error").textContent = await errorMessage(response);
      return;
    }
    const video = await response.json();
    follow(video);
    refreshHistory();
  } finally {
    $("create-button").disabled = false;
  }
}

// --- following -------------------------------------------------------------------------

function render(video) {
  state.current = video;
  show("progress-section", true);
  $("progress").value = video.progress;
  $("progress").setAttribute("aria-valuetext", `${video.progress}%: ${video.stage}`);
  $("percent").textContent = `${video.progress}%`;
  $("stage").textContent = video.stage;
  const left = video.estimated_completion_at ? Math.max(0, video.estimated_completion_at - Date.now() / 1000) : null;
  $("eta").textContent = left !== null && video.status === "in_progress" ? `· about ${formatSeconds(left)} left` : "";
  $("video-error").textContent = video.status === "failed" && video.error ? video.error.message : "";
  $("cancel-button").hidden = video.status === "completed" || video.status === "failed";
  if (video.status === "completed") play(video);
}

function formatSeconds(seconds) {
  const minutes = Math.floor(seconds / 60);
  return minutes ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.round(seconds)} s`;
}

async function follow(video) {
  if (state.abort) state.abort.abort();
  const controller = new AbortController();
  state.abort = controller;
  show("player-section", false);
  render(video);
  let lastId = null;
  // Reconnect after a dropped connection, resuming where it stopped (Last-Event-ID).
  for (let attempt = 0; attempt < 20 && !controller.signal.aborted; attempt++) {
    const headers = lastId ? { "Last-Event-ID": lastId } : {};
    try {
      const response = await api(`/v1/videos/${video.id}/events`, { headers, signal: controller.signal });
      if (!response.ok) {
        $("video-error").textContent = await errorMessage(response);
        return;
      }
      const finished = await readEvents(response, (id, kind, data) => {
        if (id) lastId = id;
        if (kind === "video") render(data);
      });
      if (finished) {
        refreshHistory();  // the list shows the new state too
        return;
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let terminal = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return terminal;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = {};
      for (const line of block.split("\n")) {
        const colon = line.indexOf(": ");
        if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
      }
      if (fields.data === undefined) continue;
      const data = JSON.parse(fields.data);
      onEvent(fields.id, fields.event, data);
      if (fields.event === "deleted" || data.status === "completed" || data.status === "failed") terminal = true;
    }
  }
}

async function contentUrl(video, variant) {
  const response = await api(`/v1/videos/${video.id}/content?variant=${variant}&redirect=false`);
  return response.ok ? (await response.json()).url : null;
}

// The box takes the picture's own shape: the size the video object names until the file says its own.
function shape(element, width, height) {
  if (!(width > 0 && height > 0)) return;
  element.style.setProperty("--shape-width", width);
  element.style.setProperty("--shape-height", height);
}

function sizeOf(video) {
  const [width, height] = String(video.size || "").split("x").map(Number);
  return { width, height };
}

async function play(video) {
  const player = $("player");
  if (player.dataset.videoId === video.id) return;
  player.dataset.videoId = video.id;
  const { width, height } = sizeOf(video);
  shape(player, width, height);
  const available = video.content || {};
  const [src, vtt, srt, thumbnail, sheet] = await Promise.all(
    ["video", "vtt", "srt", "thumbnail", "contact_sheet"].map(
      (variant) => (available[variant] ? contentUrl(video, variant) : null)));
  player.querySelectorAll("track").forEach((track) => track.remove());
  if (vtt) {
    const track = document.createElement("track");
    Object.assign(track, { kind: "subtitles", label: "Subtitles", srclang: "en", src: vtt, default: true });
    player.appendChild(track);
  }
  if (thumbnail) player.poster = thumbnail;
  player.src = src;
  for (const [id, url] of [["download-video", src], ["download-vtt", vtt], ["download-srt", srt],
                           ["download-thumbnail", thumbnail], ["download-contact-sheet", sheet]]) {
    $(id).href = url || "#";
    $(id).hidden = !url;
  }
  showContactSheet(sheet);
  show("player-section", true);
}

// A video rendered before contact sheets has none: the figure stays hidden rather than show a broken image.
function showContactSheet(url) {
  const image = $("contact-sheet");
  if (url) {
    image.src = url;
    $("contact-sheet-link").href = url;
  } else {
    image.removeAttribute("src");
  }
  show("contact-sheet-figure", Boolean(url));
}

// --- history ----------------------------------------------------------------------------

async function refreshHistory() {
  const response = await api("/v1/videos?limit=20");
  if (!response.ok) return;
  const list = $("history");
  list.replaceChildren();
  for (const video of (await response.json()).data) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    const created = new Date(video.created_at * 1000).toLocaleString();
    button.textContent = `${created}: ${video.status.replace("_", " ")}${video.status === "in_progress" ? ` (${video.progress}%)` : ""}`;
    button.addEventListener("click", () => follow(video));
    const detail = document.createElement("span");
    detail.className = `badge ${video.status}`;
    const { width, height } = sizeOf(video);
    detail.textContent = `${video.quality}, ${video.theme}${height > width ? ", portrait" : ""}`;
    item.append(button, " ", detail);
    list.appendChild(item);
  }
}

// --- wiring -----------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useKey($("api-key").value, $("remember-key").checked);
  });
  $("create-form").addEventListener("submit", createVideo);
  const player = $("player"), sheet = $("contact-sheet");
  player.addEventListener("loadedmetadata", () => shape(player, player.videoWidth, player.videoHeight));
  sheet.addEventListener("load", () => shape(sheet, sheet.naturalWidth, sheet.naturalHeight));
  $("sample-button").addEventListener("click", () => { $("markdown").value = SAMPLE; $("markdown").focus(); });
  $("refresh-button").addEventListener("click", refreshHistory);
  $("cancel-button").addEventListener("click", async () => {
    if (!state.current) return;
    const response = await api(`/v1/videos/${state.current.id}/cancel`, { method: "POST" });
    if (response.ok) render(await response.json());
    else $("video-error").textContent = await errorMessage(response);
  });
  for (const radio of document.querySelectorAll("input[name=source]")) {
    radio.addEventListener("change", () => {
      const prompt = document.querySelector("input[name=source]:checked").value === "prompt";
      show("prompt-field", prompt);
      show("markdown-field", !prompt);
    });
  }
  const saved = sessionStorage.getItem("videojob-key") || localStorage.getItem("videojob-key");
  if (saved) {
    $("api-key").value = saved;
    useKey(saved, Boolean(localStorage.getItem("videojob-key")));
  }
});
