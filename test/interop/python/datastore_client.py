"""Drives a DataStoreService through a plan of calls, with Python's grpcio and
the stubs generated from proto/ (see generate.py).

Usage: python3 datastore_client.py STUBS_DIR ADDRESS < plan.json

The plan is a JSON list of calls:
  {"method": "WriteData", "store_name": ..., "source": ..., "entry": {"key": SPEC, "data": SPEC} | null}
  {"method": "WriteBatchData", "store_name": ..., "source": ..., "entries": [{"key": SPEC, "data": SPEC}, ...]}
  {"method": "DeleteData", "store_name": ..., "source": ..., "key": SPEC | null}
  {"method": "ClearSource", "store_name": ..., "source": ...}
  {"method": "ListSources", "store_name": ...}
SPEC is common.pack's vocabulary; an entry may leave key or data out. Every
call may carry "timeout" (seconds) and "metadata" ([[key, value], ...]).

Prints one JSON list: per call {"code": "OK" | status name, "details", and the
response fields (written_count, deleted_count, sources) when OK}.
"""
import json
import sys

import grpc

from common import emit, load_stubs, pack


def main():
    stubs_dir, address = sys.argv[1], sys.argv[2]
    ipreputation_pb2, writable_pb2, writable_pb2_grpc = load_stubs(stubs_dir)
    plan = json.load(sys.stdin)

    def entry_of(spec):
        entry = writable_pb2.DataEntry()
        if spec.get("key") is not None:
            entry.key.CopyFrom(pack(spec["key"], ipreputation_pb2))
        if spec.get("data") is not None:
            entry.data.CopyFrom(pack(spec["data"], ipreputation_pb2))
        return entry

    results = []
    with grpc.insecure_channel(address) as channel:
        stub = writable_pb2_grpc.DataStoreServiceStub(channel)
        for call in plan:
            method = call["method"]
            store_name = call.get("store_name", "")
            source = call.get("source", "")
            if method == "WriteData":
                request = writable_pb2.WriteDataRequest(store_name=store_name, source=source)
                if call.get("entry") is not None:
                    request.entry.CopyFrom(entry_of(call["entry"]))
                rpc = stub.WriteData
            elif method == "WriteBatchData":
                request = writable_pb2.WriteBatchDataRequest(
                    store_name=store_name, source=source, entries=[entry_of(e) for e in call.get("entries", [])]
                )
                rpc = stub.WriteBatchData
            elif method == "DeleteData":
                request = writable_pb2.DeleteDataRequest(store_name=store_name, source=source)
                if call.get("key") is not None:
                    request.key.CopyFrom(pack(call["key"], ipreputation_pb2))
                rpc = stub.DeleteData
            elif method == "ClearSource":
                request = writable_pb2.ClearSourceRequest(store_name=store_name, source=source)
                rpc = stub.ClearSource
            elif method == "ListSources":
                request = writable_pb2.ListSourcesRequest(store_name=store_name)
                rpc = stub.ListSources
            else:
                raise ValueError("unknown method %r" % (method,))
            metadata = [tuple(kv) for kv in call.get("metadata", [])]
            try:
                response = rpc(request, timeout=call.get("timeout", 10), metadata=metadata or None)
            except grpc.RpcError as err:
                results.append({"code": err.code().name, "details": err.details() or ""})
                continue
            result = {"code": "OK", "details": ""}
            if method == "WriteBatchData":
                result["written_count"] = response.written_count
            elif method == "ClearSource":
                result["deleted_count"] = response.deleted_count
            elif method == "ListSources":
                result["sources"] = list(response.sources)
            results.append(result)
    emit(None, results)


if __name__ == "__main__":
    main()
