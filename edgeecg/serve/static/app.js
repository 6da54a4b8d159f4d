// The capture page: camera or file -> on-phone check -> POST /v1/predict -> findings, measurements, overlay.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const auth = token ? { Authorization: `Bearer ${token}` } : {};
  const CHECK_WIDTH = 640, SEND_WIDTH = 2400;
  let photo = null, photoName = "photo.jpg";

  async function api(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { ...auth, ...(options.headers || {}) } });
    const type = response.headers.get("content-type") || "";
    return { response, body: type.includes("json") ? await response.json() : await response.blob() };
  }

  api("/v1/model").then(({ response, body }) => {
    $("model").textContent = response.ok ? `model ${body.name} (${body.sha256.slice(0, 12)}), edgeecg ${body.edgeecg_version}`
      : body.error;
  }).catch(() => { $("model").textContent = "the service cannot be reached"; });

  // live view with a framing overlay where the browser allows the camera (https or localhost)
  async function startCamera() {
    if (!navigator.mediaDevices || !window.isSecureContext) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 2560 } } });
      const video = $("video");
      video.srcObject = stream;
      await video.play();
      $("viewfinder").hidden = false;
      drawFrame();
    } catch (err) { /* no camera or no permission: the file input stays */ }
  }

  function drawFrame() {
    const c = $("frame"), v = $("video");
    c.width = v.clientWidth; c.height = v.clientHeight;
    const ctx = c.getContext("2d");
    const w = c.width * 0.9, h = Math.min(c.height * 0.9, w / 1.414);   // A4 landscape
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 3; ctx.setLineDash([12, 8]);
    ctx.strokeRect((c.width - w) / 2, (c.height - h) / 2, w, h);
    requestAnimationFrame(drawFrame);
  }

  function toCanvas(source, width, height, maxWidth) {
    const scale = Math.min(1, maxWidth / width);
    const c = document.createElement("canvas");
    c.width = Math.round(width * scale); c.height = Math.round(height * scale);
    c.getContext("2d").drawImage(source, 0, 0, c.width, c.height);
    return c;
  }

  function review(source, width, height) {
    photo = toCanvas(source, width, height, SEND_WIDTH);
    const small = toCanvas(source, width, height, CHECK_WIDTH);
    const preview = $("preview");
    preview.width = small.width; preview.height = small.height;
    preview.getContext("2d").drawImage(small, 0, 0);
    const pixels = small.getContext("2d").getImageData(0, 0, small.width, small.height);
    const verdict = Precheck.check(pixels.data, small.width, small.height);
    const list = $("problems");
    list.innerHTML = "";
    for (const p of verdict.problems) {
      const li = document.createElement("li"); li.textContent = p.fix; li.dataset.problem = p.what; list.append(li);
    }
    if (verdict.ok) {
      const li = document.createElement("li"); li.className = "ok"; li.textContent = "The photo looks readable: sending."; list.append(li);
    }
    $("check").hidden = false;
    $("send").textContent = verdict.ok ? "Send" : "Send anyway";
    if (verdict.ok) send();
  }

  $("shoot").addEventListener("click", () => {
    const v = $("video");
    photoName = "camera.jpg";
    review(v, v.videoWidth, v.videoHeight);
  });

  $("file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    photoName = file.name;
    if (file.type === "application/pdf") { photo = file; $("check").hidden = false; $("problems").innerHTML = ""; send(); return; }
    const image = new Image();
    image.onload = () => review(image, image.naturalWidth, image.naturalHeight);
    image.onerror = () => show({ ok: false, error: "this file is not an image the browser can open" });
    image.src = URL.createObjectURL(file);
  });

  $("retake").addEventListener("click", () => { $("check").hidden = true; $("result").hidden = true; $("file").value = ""; });
  $("send").addEventListener("click", send);

  async function send() {
    $("result").hidden = false;
    $("status").textContent = "reading the page...";
    for (const id of ["findings", "measurements", "notes"]) $(id).innerHTML = "";
    $("overlay").removeAttribute("src");
    const blob = photo instanceof Blob ? photo : await new Promise((ok) => photo.toBlob(ok, "image/jpeg", 0.92));
    try {
      const { body } = await api("/v1/predict", { method: "POST", body: blob,
        headers: { "Content-Type": blob.type || "image/jpeg", "X-Filename": photoName } });
      show(body);
    } catch (err) { show({ ok: false, error: "the service cannot be reached; check the ward network" }); }
  }

  function row(table, name, value) {
    const tr = table.insertRow(); tr.insertCell().textContent = name; tr.insertCell().textContent = value;
  }

  function text(v) { return v && v.value !== null && v.value !== undefined ? `${Math.round(v.value)} ${v.unit}` : "unavailable"; }

  async function show(r) {
    $("result").hidden = false;
    if (!r.ok) { $("status").innerHTML = ""; const p = document.createElement("span"); p.className = "error"; p.textContent = `Not read: ${r.error}`; $("status").append(p); return; }
    $("status").textContent = r.findings.length ? "Findings:" : "No finding above its threshold.";
    for (const f of r.findings) {
      const div = document.createElement("div"); div.className = "finding";
      div.innerHTML = "<span><b></b> <span class=muted></span></span><span></span>";
      div.querySelector("b").textContent = f.label; div.querySelector(".muted").textContent = f.description;
      div.lastChild.textContent = `${Math.round(100 * f.probability)} %`;
      $("findings").append(div);
    }
    const m = r.measurements, t = $("measurements");
    if (m) {
      row(t, "Heart rate", `${text(m.heart_rate)} (${m.rhythm})`);
      for (const [k, name] of [["pr", "PR"], ["qrs", "QRS"], ["qt", "QT"], ["qtc_bazett", "QTc (Bazett)"]]) row(t, name, text(m[k]));
    }
    if (r.af_probability !== null) row(t, "AF probability", `${Math.round(100 * r.af_probability)} %`);
    const q = r.digitizer && r.digitizer.quality;
    if (q) {
      for (const note of [`layout ${q.layout}, confidence ${q.confidence.toFixed(2)}`, ...q.notes]) {
        const li = document.createElement("li"); li.textContent = note; $("notes").append(li);
      }
    }
    if (r.annotated_url) {
      const { response, body } = await api(r.annotated_url);
      if (response.ok) $("overlay").src = URL.createObjectURL(body);
    }
    $("notice").textContent = r.model && r.model.notice ? r.model.notice : "";
  }

  startCamera();
})();
