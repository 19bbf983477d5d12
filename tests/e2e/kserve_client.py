#!/usr/bin/python3
"""Talks to a running uopd the way a Triton/KServe Python client would: grpcio
with stubs generated from proto/*.proto at run time (nothing pre-generated).

  /usr/bin/python3 tests/e2e/kserve_client.py --target 127.0.0.1:8001 [--proto-root .]

Checks ServerLive, ServerReady, ServerMetadata, grpc.health.v1 Check, a
ModelInfer on the example "add" model and a bad request's INVALID_ARGUMENT. Prints one line per check;
exits 0 when all pass, 1 otherwise. Needs Debian's python3-grpcio and
python3-grpc-tools (use /usr/bin/python3: another python3 may be first on PATH).
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile

PROTOS = ["proto/grpc_service.proto", "proto/model_config.proto", "proto/health.proto"]


def generate_stubs(proto_root, out_dir):
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"--proto_path={proto_root}",
           f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + PROTOS
    subprocess.run(cmd, check=True)
    # A regular package, so an installed distribution named `proto` cannot shadow it.
    open(os.path.join(out_dir, "proto", "__init__.py"), "w").close()
    sys.path.insert(0, out_dir)
    return (importlib.import_module("proto.grpc_service_pb2"),
            importlib.import_module("proto.grpc_service_pb2_grpc"),
            importlib.import_module("proto.health_pb2"),
            importlib.import_module("proto.health_pb2_grpc"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="host:port of uopd's gRPC listener")
    ap.add_argument("--proto-root", default=".", help="folder that contains proto/")
    ap.add_argument("--expect-version", default=None, help="ServerMetadata version to expect")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per RPC")
    args = ap.parse_args()

    import grpc  # after argparse, so --help works without grpcio

    failures = []

    def check(name, ok, detail):
        print(f"kserve_client: {'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(name)

    with tempfile.TemporaryDirectory() as out_dir:
        pb, pb_grpc, health_pb, health_grpc = generate_stubs(args.proto_root, out_dir)
        with grpc.insecure_channel(args.target) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            live = stub.ServerLive(pb.ServerLiveRequest(), timeout=args.timeout)
            check("ServerLive", live.live, f"live={live.live}")
            ready = stub.ServerReady(pb.ServerReadyRequest(), timeout=args.timeout)
            check("ServerReady", ready.ready, f"ready={ready.ready}")
            meta = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=args.timeout)
            version_ok = args.expect_version is None or meta.version == args.expect_version
            check("ServerMetadata", meta.name == "uop" and version_ok,
                  f"name={meta.name} version={meta.version} extensions={list(meta.extensions)}")

            health = health_grpc.HealthStub(channel)
            serving = health_pb.HealthCheckResponse.SERVING
            for service in ["", "inference.GRPCInferenceService"]:
                got = health.Check(health_pb.HealthCheckRequest(service=service),
                                   timeout=args.timeout)
                check(f"health.Check({service!r})", got.status == serving,
                      health_pb.HealthCheckResponse.ServingStatus.Name(got.status))

            import struct
            req = pb.ModelInferRequest(model_name="add", id="py-1")
            for name in ("A", "B"):
                req.inputs.add(name=name, datatype="FP32", shape=[4])
            req.raw_input_contents.append(struct.pack("<4f", 1, 2, 3, 4))
            req.raw_input_contents.append(struct.pack("<4f", 10, 20, 30, 40))
            resp = stub.ModelInfer(req, timeout=args.timeout)
            got = list(struct.unpack("<4f", resp.raw_output_contents[0]))
            check("ModelInfer", got == [11.0, 22.0, 33.0, 44.0] and resp.id == "py-1",
                  f"C={got} id={resp.id}")

            try:
                bad = pb.ModelInferRequest(model_name="add")
                bad.inputs.add(name="A", datatype="FP64", shape=[4])
                bad.raw_input_contents.append(b"\0" * 32)
                stub.ModelInfer(bad, timeout=args.timeout)
                check("ModelInfer(bad dtype)", False, "answered OK, expected INVALID_ARGUMENT")
            except grpc.RpcError as e:
                check("ModelInfer(bad dtype)", e.code() == grpc.StatusCode.INVALID_ARGUMENT and
                      "input 'A': datatype FP64 given" in (e.details() or ""),
                      f"{e.code().name}: {e.details()}")

    print(f"kserve_client: {'all checks passed' if not failures else 'failed: ' + ', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
