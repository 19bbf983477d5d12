"""Decodes profile_demo's traces with python3-protobuf and the json module.

A second, independent reader of our Perfetto output: the message classes come
from perfetto_trace.proto (compiled to a descriptor set by the build), not from
any C++ code. Checks what a Perfetto reader relies on and what the profiler
promises for a run through the Engine.

usage: perfetto_python_decode.py DESCRIPTOR_SET TRACE.perfetto-trace TRACE.json
"""
import collections
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

MONOTONIC, BOOTTIME = 3, 6
SLICE_BEGIN, SLICE_END, INSTANT, COUNTER = 1, 2, 3, 4


def trace_class(descriptor_path):
  fds = descriptor_pb2.FileDescriptorSet()
  with open(descriptor_path, "rb") as f:
    fds.ParseFromString(f.read())
  pool = descriptor_pool.DescriptorPool()
  for fd in fds.file:
    pool.Add(fd)
  desc = pool.FindMessageTypeByName("uop.profiler.perfetto.Trace")
  return message_factory.MessageFactory(pool).GetPrototype(desc)


def fail(msg):
  print("FAIL:", msg)
  sys.exit(1)


def check_perfetto(cls, path):
  trace = cls()
  with open(path, "rb") as f:
    trace.ParseFromString(f.read())
  clocks = {}
  names, arg_names = {}, {}
  tracks = {}
  slices = []  # dicts: name, track, begin, end, flows, args
  counters = collections.defaultdict(list)
  open_slices = collections.defaultdict(list)
  last_ts = {}
  for i, p in enumerate(trace.packet):
    which = p.WhichOneof("data")
    if which == "clock_snapshot":
      clocks = {c.clock_id: c.timestamp for c in p.clock_snapshot.clocks}
      continue
    if p.HasField("interned_data"):
      for n in p.interned_data.event_names:
        names[n.iid] = n.name
      for n in p.interned_data.debug_annotation_names:
        arg_names[n.iid] = n.name
    if which == "track_descriptor":
      d = p.track_descriptor
      if d.uuid in tracks:
        fail(f"packet {i}: duplicate track {d.uuid}")
      tracks[d.uuid] = d
      continue
    if which != "track_event":
      continue
    e = p.track_event
    if p.timestamp_clock_id != MONOTONIC:
      fail(f"packet {i}: clock {p.timestamp_clock_id}")
    if e.track_uuid not in tracks:
      fail(f"packet {i}: unknown track {e.track_uuid}")
    if p.timestamp < last_ts.get(e.track_uuid, 0):
      fail(f"packet {i}: time goes back on track {e.track_uuid}")
    last_ts[e.track_uuid] = p.timestamp
    is_counter_track = tracks[e.track_uuid].HasField("counter")
    if e.type == COUNTER:
      if not is_counter_track:
        fail(f"packet {i}: counter on a slice track")
      counters[e.track_uuid].append(e.counter_value)
    elif e.type in (SLICE_BEGIN, INSTANT):
      if is_counter_track:
        fail(f"packet {i}: slice on a counter track")
      if e.name_iid not in names:
        fail(f"packet {i}: unknown name iid {e.name_iid}")
      args = {}
      for a in e.debug_annotations:
        args[arg_names[a.name_iid]] = getattr(a, a.WhichOneof("value"))
      s = dict(name=names[e.name_iid], track=e.track_uuid, begin=p.timestamp,
               end=p.timestamp, flows=set(e.flow_ids), args=args)
      slices.append(s)
      if e.type == SLICE_BEGIN:
        open_slices[e.track_uuid].append(s)
    elif e.type == SLICE_END:
      if not open_slices[e.track_uuid]:
        fail(f"packet {i}: SLICE_END without a begin")
      open_slices[e.track_uuid].pop()["end"] = p.timestamp
    else:
      fail(f"packet {i}: event type {e.type}")
  if any(open_slices.values()):
    fail("unclosed slices")
  if MONOTONIC not in clocks or BOOTTIME not in clocks:
    fail("no MONOTONIC/BOOTTIME clock snapshot")

  def under(uuid, ancestor):
    while uuid:
      if uuid == ancestor:
        return True
      uuid = tracks[uuid].parent_uuid if uuid in tracks else 0
    return False

  cpu = [u for u, d in tracks.items() if d.name == "CPU:0"]
  if len(cpu) != 1:
    fail("no CPU:0 device track")
  kernels = [s for s in slices
             if under(s["track"], cpu[0]) and tracks[s["track"]].name.startswith("compute")]
  if not kernels:
    fail("no kernel spans on CPU:0")
  requests = [s for s in slices if s["name"] == "realize" or s["name"].startswith("jit ")]
  compiles = [s for s in slices if s["name"].startswith("compile ")]
  for k in kernels:
    if "global.x" not in k["args"]:
      fail(f"kernel {k['name']} without launch dims")
    if not any(r["flows"] & k["flows"] and r["begin"] <= k["begin"] and k["end"] <= r["end"]
               for r in requests):
      fail(f"kernel {k['name']} has no flow to its request")
    if not any(c["flows"] & k["flows"] and c["name"] == "compile " + k["name"] for c in compiles):
      fail(f"kernel {k['name']} has no flow to its compile")
  if sum(1 for s in slices if s["name"] == "jit replay") != 2:
    fail("expected 2 jit replay spans")
  memory = [u for u, d in tracks.items() if d.name == "memory in use" and under(u, cpu[0])]
  if len(memory) != 1 or not counters[memory[0]]:
    fail("no memory counter on CPU:0")
  print(f"perfetto ok: {len(trace.packet)} packets, {len(tracks)} tracks, "
        f"{len(slices)} slices, {len(kernels)} kernels")


def check_json(path):
  with open(path) as f:
    data = json.load(f)
  events = data["traceEvents"]
  phases = collections.Counter(e["ph"] for e in events)
  for ph in ("X", "i", "C", "M", "s", "f"):
    if not phases[ph]:
      fail(f"JSON trace has no '{ph}' events")
  if not any(e["ph"] == "X" and e["name"] == "realize" for e in events):
    fail("JSON trace has no realize span")
  print(f"json ok: {len(events)} events {dict(phases)}")


def main():
  cls = trace_class(sys.argv[1])
  check_perfetto(cls, sys.argv[2])
  check_json(sys.argv[3])


if __name__ == "__main__":
  main()
