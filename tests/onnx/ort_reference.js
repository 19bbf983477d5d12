#!/usr/bin/env node
// Writes onnxruntime's outputs for a test case: node ort_reference.js CASE_DIR
// Reads CASE_DIR/model.onnx and test_data_set_0/input_N.pb (TensorProto),
// runs onnxruntime-node (CPU, 1 thread) and writes test_data_set_0/output_N.pb
// (TensorProto with raw_data). onnxruntime-node comes through NODE_PATH.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

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
  5: ['int16', Int16Array], 6: ['int32', Int32Array], 7: ['int64', BigInt64Array],
  9: ['bool', Uint8Array], 11: ['float64', Float64Array],
};
const CODES = { float32: 1, uint8: 2, int8: 3, int16: 5, int32: 6, int64: 7, bool: 9, float64: 11 };

function parseTensor(buf) {
  const dims = [];
  let type = 0, raw = null;
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (wire === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      if (field === 1) dims.push(Number(v));
      else if (field === 2) type = Number(v);
    } else if (wire === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      const end = pos + Number(len);
      if (field === 9) raw = buf.subarray(pos, end);
      else if (field === 1) for (let p = pos; p < end;) { let v; [v, p] = readVarint(buf, p); dims.push(Number(v)); }
      pos = end;
    } else if (wire === 5) pos += 4;
    else if (wire === 1) pos += 8;
    else throw new Error(`wire type ${wire}`);
  }
  const [dtype, Arr] = TYPES[type];
  const copy = Buffer.from(raw || []);
  const data = new Arr(copy.buffer, copy.byteOffset, copy.byteLength / Arr.BYTES_PER_ELEMENT);
  return new ort.Tensor(dtype, dtype === 'bool' ? Uint8Array.from(data) : data, dims);
}

function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

function writeTensor(t, name) {
  const parts = [];
  for (const d of t.dims) parts.push(Buffer.from([0x08]), varint(d));
  parts.push(Buffer.from([0x10]), varint(CODES[t.type]));
  const nameBuf = Buffer.from(name);
  parts.push(Buffer.from([0x42]), varint(nameBuf.length), nameBuf);
  const data = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  parts.push(Buffer.from([0x4a]), varint(data.length), data);
  return Buffer.concat(parts);
}

async function main() {
  const dir = process.argv[2];
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'),
                                                    { intraOpNumThreads: 1 });
  const data = path.join(dir, 'test_data_set_0');
  const feeds = {};
  for (let i = 0; i < session.inputNames.length; ++i) {
    const f = path.join(data, `input_${i}.pb`);
    if (fs.existsSync(f)) feeds[session.inputNames[i]] = parseTensor(fs.readFileSync(f));
  }
  const out = await session.run(feeds);
  session.outputNames.forEach((name, i) => {
    fs.writeFileSync(path.join(data, `output_${i}.pb`), writeTensor(out[name], name));
  });
}
main().catch((e) => { console.error(`ort_reference: ${e.message}`); process.exit(1); });
