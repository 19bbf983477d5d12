"""cc_grpc_library: C++ protobuf + gRPC code from the system protoc and grpc_cpp_plugin.

Bazel 4.2 has no native gRPC rule and @com_github_grpc_grpc cannot be fetched
offline, so a genrule runs /usr/bin/protoc with the plugin. Imports of other
protos in the same package work; google/protobuf/*.proto come from /usr/include.
"""

def cc_grpc_library(name, srcs, deps = [], grpc = True, **kwargs):
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    pkg = native.package_name()
    cmd = "/usr/bin/protoc --proto_path=. --proto_path=/usr/include --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin "
    cmd += " ".join(["$(location %s)" % s for s in srcs])
    native.genrule(
        name = name + "_codegen",
        srcs = srcs + [d + "_srcs" for d in deps if d.startswith(":")],
        outs = outs,
        cmd = cmd,
    )
    native.filegroup(name = name + "_srcs", srcs = srcs)
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpc++"] if grpc else []),
        **kwargs
    )
