// The photo checked on the phone before it is sent: blur, glare, a page too small or cut off, tilt.
// Plain functions over RGBA pixels (a canvas's ImageData), so node can test them (tests/serve/test_precheck.py).
"use strict";
const Precheck = (() => {
  const LIMITS = { sharpness: 0.3, glare: 0.02, pageShare: 0.3, tiltDeg: 6, edgeInk: 0.5 };

  function gray(rgba, n) {
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    return g;
  }

  function percentile(values, q) {
    const s = Float32Array.from(values).sort();
    return s[Math.min(s.length - 1, Math.floor(q * s.length))];
  }

  // focus: the 99th percentile of |Laplacian| over the image's contrast (dark ink on light paper)
  function sharpness(g, w, h) {
    const lap = [];
    for (let y = 1; y < h - 1; y += 1) for (let x = 1; x < w - 1; x += 1) {
      const i = y * w + x;
      lap.push(Math.abs(4 * g[i] - g[i - 1] - g[i + 1] - g[i - w] - g[i + w]));
    }
    const contrast = Math.max(1, percentile(g, 0.95) - percentile(g, 0.02));
    return percentile(lap, 0.99) / contrast;
  }

  // glare: blown-out pixels that stand out from paper that is otherwise not white
  function glare(rgba, g, n) {
    let blown = 0;
    for (let i = 0; i < n; i++) if (rgba[4 * i] > 250 && rgba[4 * i + 1] > 250 && rgba[4 * i + 2] > 250) blown++;
    return percentile(g, 0.6) < 235 ? blown / n : 0;
  }

  // the page: rows and columns that are mostly paper (brighter than the midpoint of paper and desk)
  function page(g, w, h) {
    const paper = percentile(g, 0.75), dark = percentile(g, 0.05), cut = (paper + dark) / 2;
    const rows = [], cols = new Float32Array(w);
    for (let y = 0; y < h; y++) {
      let bright = 0;
      for (let x = 0; x < w; x++) if (g[y * w + x] > cut) { bright++; cols[x]++; }
      rows.push(bright / w);
    }
    const ys = rows.map((v, i) => (v > 0.5 ? i : -1)).filter((i) => i >= 0);
    const xs = Array.from(cols).map((v, i) => (v / h > 0.5 ? i : -1)).filter((i) => i >= 0);
    if (!ys.length || !xs.length) return { share: 0, box: null };
    const box = { x0: xs[0], x1: xs[xs.length - 1], y0: ys[0], y1: ys[ys.length - 1] };
    return { share: ((box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1)) / (w * h), box, paper };
  }

  // a chart the frame cuts: its traces cross the frame's edge. For each side, the share of lines across the
  // outermost strip that meet a stroke (dark next to paper, unlike a dark desk), against the same share in a
  // strip through the middle of the page
  function edgeInk(g, w, h, paper) {
    const d = 3;
    // a stroke crosses the strip: paper on both sides of it across the strip's own direction, so that a grid
    // line running along the strip (a frame's edge lands on one by chance) is no stroke
    const stroke = (x, y, alongRows) => {
      const i = y * w + x, s = alongRows ? d * w : d;
      return g[i] < paper - 80 && g[i - s] > paper - 40 && g[i + s] > paper - 40;
    };
    const crossed = (x0, x1, y0, y1, alongRows) => {
      let hit = 0, lines = 0;
      const [a0, a1, b0, b1] = alongRows ? [y0, y1, x0, x1] : [x0, x1, y0, y1];
      for (let a = Math.max(d, a0); a < Math.min((alongRows ? h : w) - d, a1); a++) {
        lines++;
        for (let b = Math.max(d, b0); b < Math.min((alongRows ? w : h) - d, b1); b++) {
          if (alongRows ? stroke(b, a, true) : stroke(a, b, false)) { hit++; break; }
        }
      }
      return lines ? hit / lines : 0;
    };
    const sx = Math.max(8, Math.round(0.02 * w)), sy = Math.max(8, Math.round(0.02 * h));
    const midRows = Math.max(1e-3, crossed(Math.round(w / 2 - sx / 2), Math.round(w / 2 + sx / 2), 0, h, true));
    const midCols = Math.max(1e-3, crossed(0, w, Math.round(h / 2 - sy / 2), Math.round(h / 2 + sy / 2), false));
    return { left: crossed(0, sx, 0, h, true) / midRows, right: crossed(w - sx, w, 0, h, true) / midRows,
             top: crossed(0, w, 0, sy, false) / midCols, bottom: crossed(0, w, h - sy, h, false) / midCols };
  }

  // tilt: the dominant direction of the strongest edges (5 mm grid lines, traces' baselines) folded into +-45
  // degrees, after a blur that wipes out the 1 mm grid (at 640 px it aliases into false horizontals)
  function blur(g, w, h) {
    const out = new Float32Array(g.length);
    for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      out[i] = (4 * g[i] + 2 * (g[i - 1] + g[i + 1] + g[i - w] + g[i + w])
        + g[i - w - 1] + g[i - w + 1] + g[i + w - 1] + g[i + w + 1]) / 16;
    }
    return out;
  }

  function tilt(g, w, h) {
    const b = blur(blur(g, w, h), w, h);
    const mags = [], angles = [];
    for (let y = 3; y < h - 3; y++) for (let x = 3; x < w - 3; x++) {
      const i = y * w + x;
      const gx = b[i + 1] - b[i - 1], gy = b[i + w] - b[i - w];
      mags.push(Math.hypot(gx, gy));
      angles.push((((Math.atan2(gy, gx) * 180) / Math.PI % 90) + 90) % 90);
    }
    const strong = percentile(mags, 0.9), bins = new Float32Array(90);
    for (let k = 0; k < mags.length; k++) if (mags[k] >= strong && mags[k] > 0) bins[Math.floor(angles[k])] += mags[k];
    let best = 0;
    for (let k = 1; k < 90; k++) if (bins[k] > bins[best]) best = k;
    return best + 0.5 > 45 ? best + 0.5 - 90 : best + 0.5;
  }

  function check(rgba, w, h) {
    const n = w * h, g = gray(rgba, n);
    const m = { sharpness: sharpness(g, w, h), glare: glare(rgba, g, n), tiltDeg: tilt(g, w, h) };
    const p = page(g, w, h);
    m.pageShare = p.share;
    m.edgeInk = p.box ? edgeInk(g, w, h, p.paper) : {};
    const problems = [];
    if (m.sharpness < LIMITS.sharpness) problems.push({ what: "blur", fix: "The photo is blurred: hold still, tap to focus, and take it again in good light." });
    if (m.glare > LIMITS.glare) problems.push({ what: "glare", fix: "There is glare on the page: tilt the page or step out of the lamp's reflection." });
    if (m.pageShare < LIMITS.pageShare) problems.push({ what: "small", fix: "The page is too small in the photo: come closer until it fills the frame." });
    const cut = Object.entries(m.edgeInk).filter(([, v]) => v > LIMITS.edgeInk).map(([k]) => k);
    if (cut.length) problems.push({ what: "cut", fix: `The chart runs off the ${cut.join(" and ")} edge: step back so the whole page is in view.` });
    if (Math.abs(m.tiltDeg) > LIMITS.tiltDeg) problems.push({ what: "tilt", fix: `The page is turned ${Math.abs(m.tiltDeg).toFixed(0)} degrees: line the phone up with the grid.` });
    return { ok: problems.length === 0, problems, metrics: m };
  }

  return { check, LIMITS };
})();
if (typeof module !== "undefined") module.exports = Precheck;
