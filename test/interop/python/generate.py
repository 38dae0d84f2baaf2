"""Generates Python stubs for Tracee's datastore protos.

Usage: python3 generate.py PROTO_ROOT OUT_DIR

Runs grpc_tools' protoc on tracee/v1beta1/datastores/*.proto under PROTO_ROOT,
with the well-known types grpc_tools ships (google/protobuf/any.proto, ...)
on the include path, and writes *_pb2.py and *_pb2_grpc.py under OUT_DIR.
"""
import os
import sys

from grpc_tools import protoc


def main():
    proto_root, out_dir = sys.argv[1], sys.argv[2]
    builtin = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    files = [
        "tracee/v1beta1/datastores/writable.proto",
        "tracee/v1beta1/datastores/ipreputation.proto",
    ]
    args = ["grpc_tools.protoc", "-I" + proto_root]
    if os.path.isdir(builtin):
        args.append("-I" + builtin)
    args += ["--python_out=" + out_dir, "--grpc_python_out=" + out_dir] + files
    code = protoc.main(args)
    if code != 0:
        sys.exit("protoc failed with exit code %d" % code)


if __name__ == "__main__":
    main()
