"""A DataStoreService in Python over in-memory dicts, for testing this SDK's
DataStoreClient against another implementation.

Usage: python3 datastore_server.py STUBS_DIR [HOST]

Prints "PORT <n>" once it listens (on HOST, default 127.0.0.1, port picked by
the OS), then one "RECV <json>" line per call, written before the call is
answered: the request as Python unpacked it (common.describe for every Any)
and the status it is about to answer with. Exits when stdin closes or on
SIGTERM.

Stores:
  ip_reputation  IPAddressKey -> IPReputation (severity must be 1-10)
  values         google.protobuf.Value -> google.protobuf.Value
  unavailable    every call fails UNAVAILABLE
  unimplemented  every call fails UNIMPLEMENTED
Any other name is NOT_FOUND. Entries are kept per source; a batch is all or
nothing; written_count counts distinct keys, deleted_count what was removed.
"""
import signal
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf import struct_pb2

from common import describe, emit, load_stubs


class Refused(Exception):
    def __init__(self, code, details):
        super().__init__(details)
        self.code = code
        self.details = details


def main():
    stubs_dir = sys.argv[1]
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    ipreputation_pb2, writable_pb2, writable_pb2_grpc = load_stubs(stubs_dir)

    types = {
        "ip_reputation": (ipreputation_pb2.IPAddressKey, ipreputation_pb2.IPReputation),
        "values": (struct_pb2.Value, struct_pb2.Value),
    }
    failing = {"unavailable": grpc.StatusCode.UNAVAILABLE, "unimplemented": grpc.StatusCode.UNIMPLEMENTED}
    # store -> source -> serialized key -> serialized data
    data = {name: {} for name in types}
    lock = threading.Lock()

    def store_of(name):
        if name == "":
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "store_name is empty")
        if name in failing:
            raise Refused(failing[name], "datastore %s fails on purpose" % name)
        if name not in types:
            raise Refused(grpc.StatusCode.NOT_FOUND, 'datastore "%s" not found' % name)
        return types[name]

    def check_source(source):
        if source == "":
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "source is empty")

    def unpack(any_msg, has, cls, what):
        if not has:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "%s is missing" % what)
        msg = cls()
        if any_msg.TypeName() != msg.DESCRIPTOR.full_name:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "%s must be a %s" % (what, msg.DESCRIPTOR.full_name))
        try:
            any_msg.Unpack(msg)
        except Exception as err:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "%s is malformed: %s" % (what, err))
        return msg

    def entries_of(name, entries):
        key_cls, data_cls = store_of(name)
        out = []
        for i, entry in enumerate(entries):
            prefix = "entry %d: " % i if len(entries) > 1 else ""
            try:
                key = unpack(entry.key, entry.HasField("key"), key_cls, "key")
                value = unpack(entry.data, entry.HasField("data"), data_cls, "data")
            except Refused as err:
                raise Refused(err.code, prefix + err.details)
            if name == "ip_reputation" and not 1 <= value.severity <= 10:
                raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "%sseverity must be 1-10, got %d" % (prefix, value.severity))
            out.append((key.SerializeToString(deterministic=True), value.SerializeToString(deterministic=True)))
        return out

    def entry_json(entry):
        return {
            "key": describe(entry.key, ipreputation_pb2) if entry.HasField("key") else None,
            "data": describe(entry.data, ipreputation_pb2) if entry.HasField("data") else None,
        }

    def serve(method, request, context, record, body):
        """Runs body() -> response under the lock, records the call, then answers."""
        code, details, response = "OK", "", None
        try:
            with lock:
                response = body()
        except Refused as err:
            code, details = err.code.name, err.details
        record.update({"method": method, "code": code, "details": details})
        record["metadata"] = {k: v for k, v in context.invocation_metadata() if not k.startswith("grpc-") and k != "user-agent"}
        emit("RECV", record)
        if code != "OK":
            context.abort(getattr(grpc.StatusCode, code), details)
        return response

    class Service(writable_pb2_grpc.DataStoreServiceServicer):
        def WriteData(self, request, context):
            record = {"store_name": request.store_name, "source": request.source,
                      "entries": [entry_json(request.entry)] if request.HasField("entry") else []}

            def body():
                store_of(request.store_name)
                check_source(request.source)
                if not request.HasField("entry"):
                    raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "entry is missing")
                [(k, v)] = entries_of(request.store_name, [request.entry])
                data[request.store_name].setdefault(request.source, {})[k] = v
                return writable_pb2.WriteDataResponse()

            return serve("WriteData", request, context, record, body)

        def WriteBatchData(self, request, context):
            record = {"store_name": request.store_name, "source": request.source,
                      "entries": [entry_json(e) for e in request.entries]}

            def body():
                store_of(request.store_name)
                check_source(request.source)
                if len(request.entries) == 0:
                    raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "batch has no entries")
                pairs = entries_of(request.store_name, list(request.entries))
                held = data[request.store_name].setdefault(request.source, {})
                for k, v in pairs:
                    held[k] = v
                return writable_pb2.WriteBatchDataResponse(written_count=len({k for k, _ in pairs}))

            return serve("WriteBatchData", request, context, record, body)

        def DeleteData(self, request, context):
            record = {"store_name": request.store_name, "source": request.source,
                      "key": describe(request.key, ipreputation_pb2) if request.HasField("key") else None}

            def body():
                key_cls, _ = store_of(request.store_name)
                check_source(request.source)
                key = unpack(request.key, request.HasField("key"), key_cls, "key")
                held = data[request.store_name].get(request.source, {})
                held.pop(key.SerializeToString(deterministic=True), None)
                if not held:
                    data[request.store_name].pop(request.source, None)
                return writable_pb2.DeleteDataResponse()

            return serve("DeleteData", request, context, record, body)

        def ClearSource(self, request, context):
            record = {"store_name": request.store_name, "source": request.source}

            def body():
                store_of(request.store_name)
                check_source(request.source)
                removed = data[request.store_name].pop(request.source, {})
                return writable_pb2.ClearSourceResponse(deleted_count=len(removed))

            return serve("ClearSource", request, context, record, body)

        def ListSources(self, request, context):
            record = {"store_name": request.store_name}

            def body():
                store_of(request.store_name)
                sources = sorted(s for s, held in data[request.store_name].items() if held)
                return writable_pb2.ListSourcesResponse(sources=sources)

            return serve("ListSources", request, context, record, body)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    writable_pb2_grpc.add_DataStoreServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("%s:0" % host)
    server.start()
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin():
        sys.stdin.read()  # returns at EOF: whoever started us is gone
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not done.wait(0.5):
        pass
    server.stop(0)


if __name__ == "__main__":
    main()
