#!/usr/bin/env node
// Peer for the onnx_* benchmarks: onnxruntime-node (CPU) on one model case.
//
// Usage: node ort_model.js CASE_DIR THREADS RUNS
// CASE_DIR holds model.onnx and test_data_set_0/input_N.pb (TensorProto with
// raw or typed data). Runs 5 warm-ups, then RUNS timed session.run calls with
// intraOpNumThreads=THREADS, sequential execution; prints
//   ms <median ms per run>
//   version <onnxruntime version>
// onnxruntime-node is found through NODE_PATH (bench/peers/ort_model.sh
// installs it into the user cache).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// Minimal protobuf reader for onnx.TensorProto.
function readVarint(buf, pos) {
  let result = 0n, shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

const TYPES = {
  1: ['float32', Float32Array], 2: ['uint8', Uint8Array], 3: ['int8', Int8Array],
  4: ['uint16', Uint16Array], 5: ['int16', Int16Array], 6: ['int32', Int32Array],
  7: ['int64', BigInt64Array], 9: ['bool', Uint8Array], 11: ['float64', Float64Array],
  12: ['uint32', Uint32Array], 13: ['uint64', BigUint64Array],
};

function parseTensor(buf) {
  const dims = [];
  let type = 0, raw = null, name = '';
  const floats = [], int64s = [], int32s = [], doubles = [];
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      if (field === 1) dims.push(Number(BigInt.asIntN(64, v)));
      else if (field === 2) type = Number(v);
      else if (field === 5) int32s.push(Number(BigInt.asIntN(32, v)));
      else if (field === 7) int64s.push(BigInt.asIntN(64, v));
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      const end = pos + Number(len);
      const body = buf.subarray(pos, end);
      if (field === 9) raw = body;
      else if (field === 8) name = body.toString();
      else if (field === 1) for (let p = pos; p < end;) { let v; [v, p] = readVarint(buf, p); dims.push(Number(v)); }
      else if (field === 7) for (let p = pos; p < end;) { let v; [v, p] = readVarint(buf, p); int64s.push(BigInt.asIntN(64, v)); }
      else if (field === 5) for (let p = pos; p < end;) { let v; [v, p] = readVarint(buf, p); int32s.push(Number(BigInt.asIntN(32, v))); }
      else if (field === 4) for (let p = pos; p < end; p += 4) floats.push(buf.readFloatLE(p));
      else if (field === 10) for (let p = pos; p < end; p += 8) doubles.push(buf.readDoubleLE(p));
      pos = end;
    } else if (wire === 5) {
      if (field === 4) floats.push(buf.readFloatLE(pos));
      pos += 4;
    } else if (wire === 1) {
      if (field === 10) doubles.push(buf.readDoubleLE(pos));
      pos += 8;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  const [dtype, Arr] = TYPES[type] || [];
  if (!dtype) throw new Error(`unsupported element type ${type}`);
  let data;
  if (raw) {
    const copy = Buffer.from(raw);
    data = new Arr(copy.buffer, copy.byteOffset, copy.byteLength / Arr.BYTES_PER_ELEMENT);
  } else {
    const src = type === 1 ? floats : type === 7 ? int64s : type === 11 ? doubles : int32s;
    data = Arr.from(src);
  }
  if (dtype === 'bool') data = Uint8Array.from(data);
  return { name, tensor: new ort.Tensor(dtype, data, dims) };
}

async function main() {
  const [dir, threads, runs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential',
  });
  const feeds = {};
  const data = path.join(dir, 'test_data_set_0');
  for (let i = 0; fs.existsSync(path.join(data, `input_${i}.pb`)); ++i) {
    const { tensor } = parseTensor(fs.readFileSync(path.join(data, `input_${i}.pb`)));
    feeds[session.inputNames[i]] = tensor;
  }
  for (let i = 0; i < 5; ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`ms ${times[Math.floor(times.length / 2)].toFixed(4)}`);
  console.log(`version ${require('onnxruntime-node/package.json').version}`);
}

main().catch((e) => { console.error(`ort_model: ${e.message}`); process.exit(1); });
