// morl explore: the page of a Pareto set. No dependency, nothing fetched in a file (the served
// page asks its own server for a preference off the grid). Sections: quaternion maths, MuJoCo's
// forward kinematics, the orthographic drawing of the robot, charts, the application.
(function (root) {
  "use strict";

  // ---------------------------------------------------------------- quaternions ([w, x, y, z])
  function qmul(a, b) {
    return [
      a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
      a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
      a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
      a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ];
  }
  function qrot(q, v) { // rotate v by the unit quaternion q
    const w = q[0], x = q[1], y = q[2], z = q[3];
    const tx = 2 * (y * v[2] - z * v[1]), ty = 2 * (z * v[0] - x * v[2]), tz = 2 * (x * v[1] - y * v[0]);
    return [v[0] + w * tx + (y * tz - z * ty), v[1] + w * ty + (z * tx - x * tz), v[2] + w * tz + (x * ty - y * tx)];
  }
  function qnormalize(q) {
    const n = Math.hypot(q[0], q[1], q[2], q[3]);
    return n > 0 ? [q[0] / n, q[1] / n, q[2] / n, q[3] / n] : [1, 0, 0, 0];
  }
  function axisAngle(axis, angle) {
    const n = Math.hypot(axis[0], axis[1], axis[2]) || 1, s = Math.sin(angle / 2) / n;
    return [Math.cos(angle / 2), axis[0] * s, axis[1] * s, axis[2] * s];
  }
  const add = (a, b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
  const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const scale = (a, s) => [a[0] * s, a[1] * s, a[2] * s];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

  // ------------------------------------------------------------ forward kinematics (mj_kinematics)
  // Every body's world position and orientation from qpos, by MuJoCo's rule: the parent's frame,
  // the body's offset, then each joint in order (a hinge turns about its anchor, a slide moves
  // along its axis, both from qpos0; a free joint sets the pose outright).
  function forwardKinematics(kin, qpos) {
    const xpos = [[0, 0, 0]], xquat = [[1, 0, 0, 0]];
    for (let b = 1; b < kin.bodies.length; b++) {
      const body = kin.bodies[b], joints = body.joints;
      let pos, quat;
      if (joints.length === 1 && joints[0].type === "free") {
        const a = joints[0].qposadr;
        pos = [qpos[a], qpos[a + 1], qpos[a + 2]];
        quat = qnormalize([qpos[a + 3], qpos[a + 4], qpos[a + 5], qpos[a + 6]]);
      } else {
        const p = body.parent;
        pos = add(xpos[p], qrot(xquat[p], body.pos));
        quat = qmul(xquat[p], body.quat);
        for (const j of joints) {
          const anchor = add(qrot(quat, j.pos), pos);
          if (j.type === "slide") {
            pos = add(pos, scale(qrot(quat, j.axis), qpos[j.qposadr] - j.qpos0[0]));
          } else if (j.type === "hinge" || j.type === "ball") {
            const a = j.qposadr;
            const local = j.type === "ball" ? qnormalize([qpos[a], qpos[a + 1], qpos[a + 2], qpos[a + 3]])
              : axisAngle(j.axis, qpos[a] - j.qpos0[0]);
            quat = qmul(quat, local);
            pos = sub(anchor, qrot(quat, j.pos));
          }
        }
        quat = qnormalize(quat);
      }
      xpos.push(pos);
      xquat.push(quat);
    }
    return { xpos: xpos, xquat: xquat };
  }

  // World pose of every drawn geom: centre, the capsule's axis end points, radius.
  function geomShapes(kin, fk) {
    const shapes = [];
    kin.geoms.forEach((g, index) => {
      if (g.type === "plane") return;
      const q = qmul(fk.xquat[g.body], g.quat);
      const centre = add(fk.xpos[g.body], qrot(fk.xquat[g.body], g.pos));
      const shape = { index: index, type: g.type, radius: g.size[0], centre: centre, rgba: g.rgba };
      if (g.type === "capsule") {
        const half = scale(qrot(q, [0, 0, 1]), g.size[1]);
        shape.ends = [sub(centre, half), add(centre, half)];
      }
      shapes.push(shape);
    });
    return shapes;
  }

  // ------------------------------------------------------------------ the orthographic camera
  // MuJoCo's free camera: azimuth and elevation in degrees; forward, up and right as mjv_cameraFrame
  // computes them, so that a pose drawn here and MuJoCo's own rendering line up.
  function cameraFrame(azimuth, elevation) {
    const a = azimuth * Math.PI / 180, e = elevation * Math.PI / 180;
    const ca = Math.cos(a), sa = Math.sin(a), ce = Math.cos(e), se = Math.sin(e);
    const forward = [ca * ce, sa * ce, se], up = [-ca * se, -sa * se, ce];
    const right = [forward[1] * up[2] - forward[2] * up[1], forward[2] * up[0] - forward[0] * up[2],
      forward[0] * up[1] - forward[1] * up[0]];
    return { forward: forward, up: up, right: right };
  }

  function projector(view, centre, width, height) {
    const frame = cameraFrame(view.azimuth, view.elevation), pixels = height / view.extent;
    const cu = dot(centre, frame.right), cv = dot(centre, frame.up);
    return {
      frame: frame, pixels: pixels,
      point: (p) => [width / 2 + (dot(p, frame.right) - cu) * pixels, height / 2 - (dot(p, frame.up) - cv) * pixels],
      depth: (p) => dot(p, frame.forward),
    };
  }

  function colour(rgba, light) {
    const c = (v) => Math.round(255 * Math.min(1, v * light));
    return "rgb(" + c(rgba[0]) + "," + c(rgba[1]) + "," + c(rgba[2]) + ")";
  }

  // The floor: lines a metre apart around the camera's centre, and below a side view's horizon a
  // filled ground, so that motion across the floor is visible while the camera follows.
  function drawFloor(ctx, proj, centre, width, height) {
    const span = Math.ceil(Math.max(width, height) / proj.pixels) + 2;
    const x0 = Math.floor(centre[0]) - span, y0 = Math.floor(centre[1]) - span;
    const side = Math.abs(proj.frame.forward[2]) < 0.05;
    if (side) {
      const level = proj.point([centre[0], centre[1], 0])[1];
      ctx.fillStyle = "#e9ecef";
      ctx.fillRect(0, level, width, height - level);
      ctx.strokeStyle = "#8d98a3";
      ctx.lineWidth = 1;
      for (let x = x0; x <= x0 + 2 * span; x++) {
        const p = proj.point([x, centre[1], 0]);
        ctx.beginPath();
        ctx.moveTo(p[0], level);
        ctx.lineTo(p[0], level + 8);
        ctx.stroke();
      }
      ctx.beginPath();
      ctx.moveTo(0, level);
      ctx.lineTo(width, level);
      ctx.stroke();
      return;
    }
    ctx.strokeStyle = "#d3d8dd";
    ctx.lineWidth = 1;
    for (let k = 0; k <= 2 * span; k++) {
      for (const [a, b] of [[[x0 + k, y0, 0], [x0 + k, y0 + 2 * span, 0]], [[x0, y0 + k, 0], [x0 + 2 * span, y0 + k, 0]]]) {
        const p = proj.point(a), q = proj.point(b);
        ctx.beginPath();
        ctx.moveTo(p[0], p[1]);
        ctx.lineTo(q[0], q[1]);
        ctx.stroke();
      }
    }
  }

  // Capsules project to stadiums (a round-capped stroke of the capsule's diameter between its
  // projected end points), spheres to discs: exact for an orthographic view. Drawn far to near.
  function drawRobot(ctx, kin, qpos, proj, silhouette) {
    const shapes = geomShapes(kin, forwardKinematics(kin, qpos));
    shapes.sort((a, b) => proj.depth(b.centre) - proj.depth(a.centre));
    const depths = shapes.map((s) => proj.depth(s.centre));
    const near = Math.min(...depths), far = Math.max(...depths);
    ctx.lineCap = "round";
    for (const s of shapes) {
      const light = silhouette ? 0 : 1.05 - 0.3 * (far > near ? (proj.depth(s.centre) - near) / (far - near) : 0);
      const fill = silhouette ? "#000" : colour(s.rgba, light), r = s.radius * proj.pixels;
      const outline = silhouette ? [] : [["rgba(40,30,20,0.55)", 2 * r + 2]];
      for (const [style, width] of [...outline, [fill, 2 * r]]) {
        if (s.type === "capsule") {
          const p = proj.point(s.ends[0]), q = proj.point(s.ends[1]);
          ctx.strokeStyle = style;
          ctx.lineWidth = width;
          ctx.beginPath();
          ctx.moveTo(p[0], p[1]);
          ctx.lineTo(q[0] + 1e-3, q[1]); // a capsule seen end-on still draws its disc
          ctx.stroke();
        } else {
          const c = proj.point(s.centre);
          ctx.fillStyle = style;
          ctx.beginPath();
          ctx.arc(c[0], c[1], width / 2, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }
  }

  // One pose on a canvas: the page draws its frames with it, and the tests set it beside MuJoCo's
  // rendering of the same pose (silhouette: black robot on white, no floor).
  function renderPose(canvas, kin, qpos, view, centre, silhouette) {
    const ctx = canvas.getContext("2d");
    const proj = projector(view, centre, canvas.width, canvas.height);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!silhouette) drawFloor(ctx, proj, centre, canvas.width, canvas.height);
    drawRobot(ctx, kin, qpos, proj, silhouette);
  }

  function decodeFloat32(text) {
    const bytes = atobBytes(text);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  function atobBytes(text) {
    if (typeof atob === "function") {
      const raw = atob(text), bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      return bytes;
    }
    return new Uint8Array(Buffer.from(text, "base64")); // node, for the tests
  }

  // ---------------------------------------------------------------------------- charts
  function niceTicks(low, high, count) {
    const span = high - low || Math.abs(high) || 1, step0 = span / count;
    const power = Math.pow(10, Math.floor(Math.log10(step0))), f = step0 / power;
    const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
    const ticks = [];
    for (let t = Math.ceil(low / step) * step; t <= high + 1e-9 * span; t += step) ticks.push(+t.toPrecision(12));
    return ticks;
  }
  // A tick label with as many decimals as the ticks' spacing needs (0.2, 0.4; 500, 1000; 1.5e5).
  function format(v, ticks) {
    const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(v) || 1;
    if (Math.abs(v) >= 1e5) return v.toExponential(Math.max(0, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step))));
    return v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  }

  // A scatter/line chart on a canvas: x and y ranges padded, ticks, axis names.
  function Chart(parent, width, height, xName, yName) {
    this.canvas = document.createElement("canvas");
    this.canvas.width = width;
    this.canvas.height = height;
    parent.appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.xName = xName;
    this.yName = yName;
    this.box = { left: 58, right: width - 12, top: 12, bottom: height - 40 };
  }
  Chart.prototype.ranges = function (xs, ys, xFixed) {
    const pad = (lo, hi) => { const d = (hi - lo) * 0.06 || Math.abs(hi) * 0.06 || 1; return [lo - d, hi + d]; };
    this.x = xFixed || pad(Math.min(...xs), Math.max(...xs));
    this.y = pad(Math.min(...ys), Math.max(...ys));
  };
  Chart.prototype.px = function (x, y) {
    const b = this.box;
    return [b.left + (x - this.x[0]) / (this.x[1] - this.x[0]) * (b.right - b.left),
      b.bottom - (y - this.y[0]) / (this.y[1] - this.y[0]) * (b.bottom - b.top)];
  };
  Chart.prototype.axes = function () {
    const c = this.ctx, b = this.box;
    c.clearRect(0, 0, this.canvas.width, this.canvas.height);
    c.strokeStyle = "#c5ccd3";
    c.fillStyle = "#56606b";
    c.font = "11px system-ui, sans-serif";
    c.lineWidth = 1;
    c.textAlign = "center";
    const xTicks = niceTicks(this.x[0], this.x[1], Math.max(2, Math.floor((b.right - b.left) / 64)));
    for (const t of xTicks) {
      const p = this.px(t, this.y[0]);
      c.beginPath(); c.moveTo(p[0], b.top); c.lineTo(p[0], b.bottom); c.stroke();
      c.fillText(format(t, xTicks), p[0], b.bottom + 14);
    }
    c.textAlign = "right";
    const yTicks = niceTicks(this.y[0], this.y[1], Math.max(2, Math.floor((b.bottom - b.top) / 40)));
    for (const t of yTicks) {
      const p = this.px(this.x[0], t);
      c.beginPath(); c.moveTo(b.left, p[1]); c.lineTo(b.right, p[1]); c.stroke();
      c.fillText(format(t, yTicks), b.left - 4, p[1] + 4);
    }
    c.textAlign = "center";
    c.fillStyle = "#1d2329";
    c.fillText(this.xName, (b.left + b.right) / 2, b.bottom + 32);
    c.save();
    c.translate(12, (b.top + b.bottom) / 2);
    c.rotate(-Math.PI / 2);
    c.fillText(this.yName, 0, 0);
    c.restore();
  };

  // Colour of a preference: a blue-to-orange ramp for two objectives, the mix of red, green and
  // blue by weight for three (the triangle's corners).
  function preferenceColour(w) {
    if (w.length === 2) {
      const t = w[0], a = [49, 104, 178], b = [230, 120, 30];
      return "rgb(" + a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",") + ")";
    }
    const k = [[214, 39, 40], [44, 160, 44], [31, 119, 180]];
    const mix = [0, 1, 2].map((c) => Math.round(w.reduce((s, wi, i) => s + wi * k[i % 3][c], 0)));
    return "rgb(" + mix.join(",") + ")";
  }

  // ------------------------------------------------------------------------- the application
  function Explorer(data, doc) {
    this.data = data;
    this.doc = doc;
    this.m = data.objectives.length;
    this.kin = data.kinematics;
    this.episodes = data.episodes.map((e) => this.decodeEpisode(e));
    this.chosen = null; // the episode shown
    this.served = null; // the last episode the server computed (off the grid)
    this.time = 0;
    this.playing = true;
    this.speed = 1;
    this.follow = true;
    this.framesDrawn = 0;
    this.last = null;
    this.camera = null;
    this.pending = null; // the preference the served page wants computed
    this.asking = false; // a request is in flight
  }
  Explorer.prototype.decodeEpisode = function (e) {
    return { preference: e.preference, returns: e.returns, steps: e.steps, qpos: decodeFloat32(e.qpos) };
  };
  Explorer.prototype.$ = function (id) { return this.doc.getElementById(id); };

  Explorer.prototype.start = function () {
    const d = this.data;
    this.$("subtitle").textContent = d.source + " · " + d.episodes.length + " preferences recorded (seed " + d.seed +
      ", deterministic actions) · objectives: " + d.objectives.join(", ");
    this.$("footer").textContent = "Problem definition " + d.fingerprint + " · made by morl " + d.morl_version +
      (d.serve ? " · served: any preference is computed on demand" : " · a file: the recorded grid of preferences");
    this.buildControl();
    this.buildFronts();
    this.buildCurves();
    this.$("play").addEventListener("click", () => this.setPlaying(!this.playing));
    this.$("speed").addEventListener("change", (ev) => { this.speed = parseFloat(ev.target.value); });
    this.$("follow").addEventListener("change", (ev) => { this.follow = ev.target.checked; this.camera = null; });
    // the preference asked for on the command line, else the equal one (or the grid's nearest)
    this.selectIndex(d.initial !== null && d.initial !== undefined ? d.initial
      : this.gridIndexOf(Array(this.m).fill(1 / this.m)));
    const tick = (now) => { root.requestAnimationFrame(tick); this.frame(now); }; // a frame that throws stops nothing
    root.requestAnimationFrame(tick);
  };

  Explorer.prototype.setPlaying = function (playing) {
    this.playing = playing;
    this.$("play").textContent = playing ? "Pause" : "Play";
  };

  Explorer.prototype.gridIndexOf = function (w) {
    let best = 0, bestDistance = Infinity;
    this.episodes.forEach((e, i) => {
      const distance = e.preference.reduce((s, v, k) => s + (v - w[k]) * (v - w[k]), 0);
      if (distance < bestDistance) { best = i; bestDistance = distance; }
    });
    return best;
  };

  // The preference control: a slider for two objectives, a point in a triangle for three.
  Explorer.prototype.buildControl = function () {
    const box = this.$("pref-control"), names = this.data.objectives;
    if (this.m === 2) {
      const slider = this.doc.createElement("input");
      slider.type = "range";
      slider.id = "pref-slider";
      slider.min = "0";
      slider.max = "1";
      slider.step = this.data.serve ? "0.001" : String(1 / Math.max(1, this.data.grid - 1));
      slider.setAttribute("aria-label", "weight of " + names[0]);
      box.appendChild(slider);
      const ends = this.doc.createElement("div");
      ends.className = "pref-ends";
      ends.innerHTML = "<span></span><span></span>";
      ends.children[0].textContent = "all " + names[1];
      ends.children[1].textContent = "all " + names[0];
      box.appendChild(ends);
      slider.addEventListener("input", () => this.choose([+slider.value, 1 - +slider.value]));
      this.slider = slider;
      return;
    }
    const canvas = this.doc.createElement("canvas");
    canvas.id = "pref-triangle";
    canvas.width = 300;
    canvas.height = 270;
    box.appendChild(canvas);
    this.triangle = { canvas: canvas, corners: [[150, 18], [18, 250], [282, 250]] };
    const pick = (ev) => {
      const r = canvas.getBoundingClientRect();
      this.choose(this.barycentric([(ev.clientX - r.left) * canvas.width / r.width,
        (ev.clientY - r.top) * canvas.height / r.height]));
    };
    canvas.addEventListener("pointerdown", (ev) => { canvas.setPointerCapture(ev.pointerId); pick(ev); });
    canvas.addEventListener("pointermove", (ev) => { if (canvas.hasPointerCapture(ev.pointerId)) pick(ev); });
  };

  Explorer.prototype.barycentric = function (p) {
    const [a, b, c] = this.triangle.corners;
    const det = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1]);
    let l1 = ((b[1] - c[1]) * (p[0] - c[0]) + (c[0] - b[0]) * (p[1] - c[1])) / det;
    let l2 = ((c[1] - a[1]) * (p[0] - c[0]) + (a[0] - c[0]) * (p[1] - c[1])) / det;
    l1 = Math.max(0, l1); l2 = Math.max(0, l2);
    let l3 = Math.max(0, 1 - l1 - l2);
    const s = l1 + l2 + l3;
    return [l1 / s, l2 / s, l3 / s];
  };

  Explorer.prototype.drawTriangle = function () {
    const t = this.triangle, c = t.canvas.getContext("2d"), names = this.data.objectives;
    c.clearRect(0, 0, t.canvas.width, t.canvas.height);
    c.strokeStyle = "#8d98a3";
    c.beginPath();
    t.corners.forEach((p, i) => (i ? c.lineTo(p[0], p[1]) : c.moveTo(p[0], p[1])));
    c.closePath();
    c.stroke();
    const at = (w) => [0, 1].map((k) => w.reduce((s, wi, i) => s + wi * t.corners[i][k], 0));
    for (const e of this.episodes) {
      const p = at(e.preference);
      c.fillStyle = preferenceColour(e.preference);
      c.beginPath(); c.arc(p[0], p[1], 3, 0, 2 * Math.PI); c.fill();
    }
    c.fillStyle = "#1d2329";
    c.font = "11px system-ui, sans-serif";
    c.textAlign = "center";
    c.fillText(names[0], t.corners[0][0], t.corners[0][1] - 6);
    c.textAlign = "left";
    c.fillText(names[1], t.corners[1][0] - 14, t.corners[1][1] + 14);
    c.textAlign = "right";
    c.fillText(names[2], t.corners[2][0] + 14, t.corners[2][1] + 14);
    if (this.current) {
      const p = at(this.current.preference);
      c.strokeStyle = "#000";
      c.lineWidth = 2;
      c.beginPath(); c.arc(p[0], p[1], 7, 0, 2 * Math.PI); c.stroke();
      c.lineWidth = 1;
    }
  };

  // A preference chosen: in a file, the nearest recorded one; served, that very one (asked of the
  // server, the nearest recorded one shown meanwhile).
  Explorer.prototype.choose = function (w) {
    const index = this.gridIndexOf(w);
    const exact = this.episodes[index].preference.every((v, k) => Math.abs(v - w[k]) < 1e-6);
    if (!this.data.serve || exact) {
      this.selectIndex(index);
      return;
    }
    this.show({ preference: w, returns: null, steps: 0, qpos: null }, null);
    this.$("status").textContent = "computing the policy for this preference…";
    this.pending = w.map((v) => v.toFixed(6)).join(",");
    if (!this.asking) this.ask();
  };

  // One request at a time: a slider dragged across the range asks for where it stopped, not for
  // every position it passed (the server runs a whole episode per request, one after another).
  Explorer.prototype.ask = function () {
    const asked = this.pending;
    this.asking = true;
    const done = () => {
      this.asking = false;
      if (this.pending !== null && this.pending !== asked) this.ask(); // the control moved meanwhile
    };
    fetch("api/episode?preference=" + encodeURIComponent(asked)).then((r) => r.json()).then((answer) => {
      if (this.pending === asked) {
        this.pending = null;
        if (answer.error) {
          this.$("status").textContent = answer.error;
        } else {
          this.served = this.decodeEpisode(answer);
          this.$("status").textContent = "computed on demand (not one of the recorded preferences)";
          this.show(this.served, null);
        }
      }
      done();
    }).catch((error) => { this.$("status").textContent = "the server did not answer: " + error; done(); });
  };

  Explorer.prototype.selectIndex = function (index) {
    this.pending = null;
    this.$("status").textContent = "";
    this.show(this.episodes[index], index);
  };

  Explorer.prototype.show = function (episode, index) {
    const names = this.data.objectives;
    this.current = episode;
    this.currentIndex = index;
    if (episode.qpos) { this.chosen = episode; this.time = 0; this.camera = null; }
    if (this.slider) this.slider.value = String(episode.preference[0]);
    if (this.triangle) this.drawTriangle();
    this.$("pref-readout").textContent = "preference ω = (" + episode.preference.map((v) => v.toFixed(3)).join(", ") +
      ")  [" + names.join(", ") + "]";
    this.$("return-readout").textContent = episode.returns ? "return: " + names.map((n, i) => n + " = " +
      episode.returns[i].toFixed(1)).join(", ") + (index !== null && this.data.non_dominated[index] ? "  (non-dominated)" : "")
      : "return: …";
    this.drawFronts();
    this.drawCurves();
  };

  // The front in objective space: one panel for two objectives, the three pairs for three.
  Explorer.prototype.buildFronts = function () {
    const pairs = this.m === 2 ? [[0, 1]] : [[0, 1], [0, 2], [1, 2]];
    if (this.m > 2) { // three panels: a row of their own, below
      const panel = this.$("pairs-panel");
      panel.appendChild(this.$("fronts"));
      panel.hidden = false;
      this.$("front-title").remove();
    }
    const size = this.m === 2 ? [420, 340] : [300, 260], names = this.data.objectives;
    this.fronts = pairs.map(([i, j]) => {
      const chart = new Chart(this.$("fronts"), size[0], size[1], names[i], names[j]);
      chart.pair = [i, j];
      chart.canvas.classList.add("front");
      chart.ranges(this.episodes.map((e) => e.returns[i]), this.episodes.map((e) => e.returns[j]));
      this.hover(chart, (e) => [e.returns[i], e.returns[j]]);
      return chart;
    });
  };

  Explorer.prototype.hover = function (chart, coordinates) {
    const tip = this.$("tooltip"), names = this.data.objectives;
    const nearest = (ev) => {
      const r = chart.canvas.getBoundingClientRect();
      const x = (ev.clientX - r.left) * chart.canvas.width / r.width, y = (ev.clientY - r.top) * chart.canvas.height / r.height;
      let best = -1, bestDistance = 64;
      this.episodes.forEach((e, k) => {
        const p = chart.px(...coordinates(e)), d = (p[0] - x) ** 2 + (p[1] - y) ** 2;
        if (d < bestDistance) { best = k; bestDistance = d; }
      });
      return best;
    };
    chart.canvas.addEventListener("mousemove", (ev) => {
      const k = nearest(ev);
      if (k < 0) { tip.hidden = true; return; }
      const e = this.episodes[k];
      tip.textContent = "ω = (" + e.preference.map((v) => v.toFixed(3)).join(", ") + ")" +
        (this.data.non_dominated[k] ? "  non-dominated" : "  dominated") + "\n" +
        names.map((n, i) => n + " = " + e.returns[i].toFixed(1)).join("\n");
      tip.style.left = ev.clientX + 12 + "px";
      tip.style.top = ev.clientY + 12 + "px";
      tip.hidden = false;
    });
    chart.canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
    chart.canvas.addEventListener("click", (ev) => { const k = nearest(ev); if (k >= 0) this.selectIndex(k); });
  };

  Explorer.prototype.drawFronts = function () {
    for (const chart of this.fronts) {
      const [i, j] = chart.pair, c = chart.ctx;
      chart.axes();
      this.episodes.forEach((e, k) => {
        const p = chart.px(e.returns[i], e.returns[j]), best = this.data.non_dominated[k];
        c.fillStyle = preferenceColour(e.preference);
        c.globalAlpha = best ? 1 : 0.45;
        c.beginPath(); c.arc(p[0], p[1], best ? 4.5 : 3, 0, 2 * Math.PI); c.fill();
        c.globalAlpha = 1;
        if (best) { c.strokeStyle = "#1d2329"; c.lineWidth = 1; c.stroke(); }
      });
      const shown = this.current;
      if (shown && shown.returns) {
        const p = chart.px(shown.returns[i], shown.returns[j]);
        c.strokeStyle = "#000";
        c.lineWidth = 2.5;
        c.beginPath(); c.arc(p[0], p[1], 9, 0, 2 * Math.PI); c.stroke();
        c.lineWidth = 1;
      }
    }
  };

  // Each objective's return against its own weight, the current preference marked.
  Explorer.prototype.buildCurves = function () {
    const names = this.data.objectives;
    this.curves = names.map((name, i) => {
      const chart = new Chart(this.$("curves"), this.m === 2 ? 314 : 206, 200, "weight of " + name, name);
      chart.canvas.classList.add("curve");
      chart.ranges([0, 1], this.episodes.map((e) => e.returns[i]), [-0.03, 1.03]);
      this.hover(chart, (e) => [e.preference[i], e.returns[i]]);
      return chart;
    });
  };

  Explorer.prototype.drawCurves = function () {
    this.curves.forEach((chart, i) => {
      const c = chart.ctx;
      chart.axes();
      const order = this.episodes.map((e, k) => k).sort((a, b) => this.episodes[a].preference[i] - this.episodes[b].preference[i]);
      if (this.m === 2) {
        c.strokeStyle = "#8d98a3";
        c.beginPath();
        order.forEach((k, n) => { const p = chart.px(this.episodes[k].preference[i], this.episodes[k].returns[i]); n ? c.lineTo(...p) : c.moveTo(...p); });
        c.stroke();
      }
      for (const k of order) {
        const e = this.episodes[k], p = chart.px(e.preference[i], e.returns[i]);
        c.fillStyle = preferenceColour(e.preference);
        c.beginPath(); c.arc(p[0], p[1], 3, 0, 2 * Math.PI); c.fill();
      }
      if (this.current) {
        const x = chart.px(this.current.preference[i], chart.y[0])[0];
        c.strokeStyle = "#000";
        c.setLineDash([4, 3]);
        c.beginPath(); c.moveTo(x, chart.box.top); c.lineTo(x, chart.box.bottom); c.stroke();
        c.setLineDash([]);
        if (this.current.returns) {
          const p = chart.px(this.current.preference[i], this.current.returns[i]);
          c.lineWidth = 2;
          c.beginPath(); c.arc(p[0], p[1], 6, 0, 2 * Math.PI); c.stroke();
          c.lineWidth = 1;
        }
      }
    });
  };

  // One animation frame: advance the episode's clock, draw the pose at it (joint positions
  // interpolated between recorded states), the camera following the robot's root body.
  Explorer.prototype.frame = function (now) {
    const dt = this.last === null ? 0 : Math.min(0.1, (now - this.last) / 1000);
    this.last = now;
    const e = this.chosen;
    if (!e) return;
    const nq = this.kin.nq, duration = e.steps * this.data.frame_dt;
    if (this.playing) this.time = duration > 0 ? (this.time + dt * this.speed) % (duration + 0.5) : 0;
    const at = Math.min(this.time / this.data.frame_dt, e.steps), k = Math.floor(at), f = at - k;
    const qpos = new Float64Array(nq);
    for (let i = 0; i < nq; i++) {
      const a = e.qpos[k * nq + i], b = k < e.steps ? e.qpos[(k + 1) * nq + i] : a;
      qpos[i] = a + (b - a) * f;
    }
    const rootPos = forwardKinematics(this.kin, qpos).xpos[1], view = this.data.view;
    const target = [rootPos[0], rootPos[1], view.height];
    if (!this.follow) target[0] = target[1] = 0;
    this.camera = this.camera === null ? target : this.camera.map((c, i) => c + (target[i] - c) * Math.min(1, 8 * dt));
    renderPose(this.$("robot"), this.kin, qpos, view, this.camera, false);
    this.framesDrawn += 1;
    this.stepShown = k;
    this.$("clock").textContent = "t = " + (k * this.data.frame_dt).toFixed(2) + " s / " + duration.toFixed(1) +
      " s · step " + k + " of " + e.steps;
  };

  const api = { forwardKinematics: forwardKinematics, geomShapes: geomShapes, cameraFrame: cameraFrame,
    renderPose: renderPose, decodeFloat32: decodeFloat32, Explorer: Explorer };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api; // node: the kinematics tests
  } else {
    root.morlExplorer = api;
    const script = root.document.getElementById("morl-data");
    if (script) {
      api.app = new Explorer(JSON.parse(script.textContent), root.document);
      api.app.start();
    }
  }
})(typeof window !== "undefined" ? window : globalThis);
