// uopd's web view: polls /ui/api/* and renders tables and a timeline.
// Hand-written, no libraries, nothing loaded from outside the daemon.
'use strict';

const $ = (id) => document.getElementById(id);
const refreshMs = 2000;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, onclick) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    if (c instanceof Node) {
      const td = el('td');
      td.appendChild(c);
      tr.appendChild(td);
    } else if (typeof c === 'number') {
      tr.appendChild(el('td', c, 'num'));
    } else {
      tr.appendChild(el('td', c));
    }
  }
  if (onclick) {
    tr.className = 'clickable';
    tr.addEventListener('click', onclick);
  }
  return tr;
}

function fill(tableId, rows) {
  const body = $(tableId).querySelector('tbody');
  body.replaceChildren(...rows);
}

function bytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
}

function ms(x) { return x === undefined ? '' : (x < 1 ? x.toFixed(3) : x.toFixed(1)) + ' ms'; }
function us(x) { return x === undefined ? '' : x.toFixed(1) + ' µs'; }

// Protobuf JSON carries 64-bit integers as strings.
function num(x) { return x === undefined ? 0 : Number(x); }

async function getJson(path, options) {
  const r = await fetch(path, options);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function renderSummary(s) {
  $('server').textContent = s.name + ' ' + s.version;
  const ready = $('ready');
  ready.textContent = s.ready ? 'ready' : 'not ready';
  ready.className = 'badge ' + (s.ready ? 'ok' : 'bad');
  $('recording').textContent = s.recording ? 'on' : 'off';
  $('toggle-recording').textContent = s.recording ? 'stop' : 'start';
  if (s.engine) {
    const e = s.engine;
    const total = e.compiled + e.memory_hits + e.disk_hits;
    const hit = total ? ((e.memory_hits + e.disk_hits) / total * 100).toFixed(1) + '%' : '–';
    $('engine').textContent = 'engine: ' + e.realizes + ' realizes, ' + e.kernels_run +
        ' kernel launches, ' + e.compiled + ' compiled, cache hits ' + e.memory_hits +
        ' memory + ' + e.disk_hits + ' disk (' + hit + ')';
  }
}

function tensors(list) {
  return (list || []).map((t) => t.name + '[' + (t.dims || []).join(',') + ']').join(', ');
}

// Busy time of model executions summed over models, sampled at each refresh:
// the share of wall time between two refreshes is the utilization uopd's
// executions caused (uop_device_busy_seconds_total counts the same time).
let lastBusy = null;

function utilization(models) {
  let busyNs = 0;
  for (const m of models) {
    const inf = (m.stats || {}).inference_stats || {};
    for (const part of ['compute_input', 'compute_infer', 'compute_output']) {
      busyNs += num((inf[part] || {}).ns);
    }
  }
  const now = performance.now();
  let share;
  if (lastBusy && now > lastBusy.at) {
    share = Math.min(1, (busyNs - lastBusy.ns) / 1e6 / (now - lastBusy.at));
  }
  lastBusy = { ns: busyNs, at: now };
  return share;
}

function renderModels(models) {
  const share = utilization(models);
  if (share !== undefined) {
    $('busy').textContent = 'model executions kept the devices busy ' +
        (share * 100).toFixed(1) + '% of the last ' + (refreshMs / 1000) + ' s';
  }
  fill('models', models.map((m) => {
    const c = m.config || {};
    const st = m.stats || {};
    const inf = st.inference_stats || {};
    const ok = num((inf.success || {}).count);
    const failed = num((inf.fail || {}).count);
    const execs = num(st.execution_count);
    const meanQueue = ok ? num((inf.queue || {}).ns) / ok / 1e6 : undefined;
    const meanCompute = execs ? num((inf.compute_infer || {}).ns) / execs / 1e6 : undefined;
    const last = num(st.last_inference);
    const badge = el('span', m.state, 'badge ' + m.state);
    if (m.reason) badge.title = m.reason;
    return row([m.name, m.version, badge, c.backend || c.platform || '',
      c.max_batch_size === undefined ? '' : c.max_batch_size,
      tensors(c.input) + ' → ' + tensors(c.output),
      m.load_seconds === undefined ? '' : ms(m.load_seconds * 1e3),
      ok + ' / ' + failed, execs, ms(meanQueue), ms(meanCompute),
      last ? new Date(last).toLocaleTimeString() : (m.reason || '')]);
  }));
}

function renderDevices(devices) {
  fill('devices', devices.map((d) => {
    if (d.error) return row([d.name, d.error, '', '', '', '', '']);
    const m = d.memory;
    const share = m.total ? m.in_use / m.total : 0;
    const bar = el('span', '', 'bar');
    bar.style.width = Math.max(1, Math.round(share * 120)) + 'px';
    const use = el('span');
    use.append(bar, ' ' + (share * 100).toFixed(1) + '%');
    return row([d.name, d.description, bytes(m.in_use), bytes(m.peak), bytes(m.cached),
      bytes(m.total), use]);
  }));
}

let kernels = [];

function renderKernels() {
  const filter = $('kernel-filter').value.trim();
  const shown = kernels.filter((k) => !filter || k.name.includes(filter));
  $('kernel-count').textContent = '(' + shown.length + ' of ' + kernels.length + ')';
  fill('kernels', shown.map((k) => row([k.id, k.name, k.device, k.global.join('×'),
    k.local.join('×'), Array.isArray(k.opts) ? k.opts.join(' ') : k.opts, k.disk_cache_hit ? 'disk' : 'compiled',
    ms(k.render_ms), ms(k.compile_ms), k.launches === undefined ? '' : k.launches,
    us(k.mean_us), us(k.max_us)], () => showKernel(k.id))));
}

async function showKernel(id) {
  try {
    const k = await getJson('/ui/api/kernel?id=' + id);
    $('kernel-detail').hidden = false;
    $('kernel-title').textContent = k.name + ' (' + k.language + ')';
    $('kernel-buffers').textContent = 'buffers: ' + k.buffers.map((b) =>
      '#' + b.slot + ' ' + b.dtype + '[' + b.size + ']' + (b.output ? ' out' : '')).join(', ') +
      (k.vars.length ? '; vars: ' + k.vars.join(', ') : '');
    $('kernel-source').textContent = k.source;
    $('kernel-steps').replaceChildren(...(k.steps || []).map((step, i) => {
      const d = document.createElement('details');
      const summary = el('summary', (i + 1) + '. ' + step.name + ' — ' + step.nodes +
          (i === 1 ? ' axes' : i === 2 ? ' opts' : ' nodes') + (step.changed ? '' : ' (unchanged)'));
      d.append(summary, el('pre', step.text));
      return d;
    }));
    $('kernel-steps-error').textContent = k.steps_error ? 'pipeline: ' + k.steps_error : '';
  } catch (e) {
    $('kernel-title').textContent = 'kernel ' + id + ': ' + e.message;
  }
}

function renderRecent(r) {
  fill('recent', r.spans.slice(0, 20).map((s) => row([ms(s.ago_ms) + ' ago', s.track, s.name,
    us(s.duration_us), s.flows.join(' ')])));
}

// --- Timeline: Chrome trace-event JSON ("X" spans) on a canvas ------------

let timeline = null;

function layoutTrace(trace) {
  const names = new Map();  // "pid:tid" -> track name
  const procs = new Map();
  const spans = [];
  for (const e of trace.traceEvents || []) {
    if (e.ph === 'M' && e.name === 'thread_name') names.set(e.pid + ':' + e.tid, e.args.name);
    if (e.ph === 'M' && e.name === 'process_name') procs.set(e.pid, e.args.name);
    if (e.ph === 'X') spans.push(e);
  }
  const lanes = new Map();
  for (const s of spans) {
    const key = s.pid + ':' + s.tid;
    if (!lanes.has(key)) {
      const label = (procs.get(s.pid) || s.pid) + ' / ' + (names.get(key) || s.tid);
      lanes.set(key, { label, spans: [] });
    }
    lanes.get(key).spans.push(s);
  }
  let t0 = Infinity, t1 = -Infinity;
  for (const s of spans) { t0 = Math.min(t0, s.ts); t1 = Math.max(t1, s.ts + (s.dur || 0)); }
  return { lanes: [...lanes.values()], t0, t1, count: spans.length };
}

const LANE = 18, LABEL = 220;

function drawTimeline() {
  const canvas = $('timeline');
  const ctx = canvas.getContext('2d');
  const t = timeline;
  const lanes = t ? t.lanes : [];
  canvas.height = Math.max(60, lanes.length * LANE + 20);
  canvas.width = canvas.clientWidth || 1200;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = '11px system-ui, sans-serif';
  if (!t || t.count === 0) {
    ctx.fillStyle = '#6b7280';
    ctx.fillText('no spans recorded in this window (start the flight recorder, send requests)',
        8, 20);
    return;
  }
  const span = Math.max(1, t.t1 - t.t0);
  const width = canvas.width - LABEL - 8;
  lanes.forEach((lane, i) => {
    const y = 10 + i * LANE;
    ctx.fillStyle = '#374151';
    ctx.fillText(lane.label.slice(0, 34), 4, y + 12);
    for (const s of lane.spans) {
      const x = LABEL + (s.ts - t.t0) / span * width;
      const w = Math.max(1, (s.dur || 0) / span * width);
      let h = 0;
      for (const ch of s.name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      ctx.fillStyle = 'hsl(' + (h % 360) + ',60%,55%)';
      ctx.fillRect(x, y, w, LANE - 4);
    }
  });
}

function spanAt(x, y) {
  if (!timeline || timeline.count === 0) return null;
  const lane = timeline.lanes[Math.floor((y - 10) / LANE)];
  if (!lane) return null;
  const canvas = $('timeline');
  const width = canvas.width - LABEL - 8;
  const ts = timeline.t0 + (x - LABEL) / width * Math.max(1, timeline.t1 - timeline.t0);
  const slack = (timeline.t1 - timeline.t0) / width * 2;
  return lane.spans.find((s) => ts >= s.ts - slack && ts <= s.ts + (s.dur || 0) + slack) || null;
}

async function loadTrace() {
  const seconds = $('seconds').value;
  try {
    timeline = layoutTrace(await getJson('/ui/api/trace?format=json&seconds=' + seconds));
    $('timeline-info').textContent = timeline.count + ' spans on ' + timeline.lanes.length +
        ' tracks' + (timeline.count ? ', ' + ((timeline.t1 - timeline.t0) / 1e3).toFixed(1) +
        ' ms' : '') + '; hover a span for its name and duration';
  } catch (e) {
    timeline = null;
    $('timeline-info').textContent = 'trace: ' + e.message;
  }
  drawTimeline();
}

function updateDownloads() {
  const s = $('seconds').value;
  $('dl-json').href = '/ui/api/trace?format=json&download=1&seconds=' + s;
  $('dl-perfetto').href = '/ui/api/trace?format=perfetto&download=1&seconds=' + s;
}

// --- Polling ---------------------------------------------------------------

async function refresh() {
  try {
    const [summary, models, devices, ks, recent] = await Promise.all([
      getJson('/ui/api/summary'), getJson('/ui/api/models'), getJson('/ui/api/devices'),
      getJson('/ui/api/kernels'), getJson('/ui/api/recent?seconds=10')]);
    renderSummary(summary);
    renderModels(models);
    renderDevices(devices);
    kernels = ks;
    renderKernels();
    renderRecent(recent);
    document.body.dataset.loaded = 'true';
  } catch (e) {
    $('ready').textContent = 'unreachable: ' + e.message;
    $('ready').className = 'badge bad';
  }
}

$('kernel-filter').addEventListener('input', renderKernels);
$('seconds').addEventListener('change', updateDownloads);
$('load-trace').addEventListener('click', loadTrace);
$('toggle-recording').addEventListener('click', async () => {
  const on = $('recording').textContent === 'on' ? 0 : 1;
  try {
    renderSummary(await getJson('/ui/api/recording?on=' + on, { method: 'POST' }));
  } catch (e) {
    $('timeline-info').textContent = 'recorder: ' + e.message;
  }
});
$('timeline').addEventListener('mousemove', (ev) => {
  const r = ev.target.getBoundingClientRect();
  const scale = ev.target.width / r.width;
  const s = spanAt((ev.clientX - r.left) * scale, (ev.clientY - r.top) * scale);
  ev.target.title = s ? s.name + ' — ' + ((s.dur || 0) >= 1000 ? ((s.dur / 1e3).toFixed(2) +
      ' ms') : ((s.dur || 0).toFixed(1) + ' µs')) : '';
});

updateDownloads();
refresh().then(loadTrace);
setInterval(() => { if ($('auto').checked) refresh(); }, refreshMs);
