"""Shared by the Python interop scripts: loading the generated stubs, packing
values into google.protobuf.Any from a small JSON vocabulary, and describing
an Any as JSON after unpacking it the way a Python peer would."""
import base64
import binascii
import json
import sys

from google.protobuf import any_pb2, json_format, struct_pb2, timestamp_pb2


def load_stubs(stubs_dir):
    """Imports the generated modules from stubs_dir (see generate.py)."""
    sys.path.insert(0, stubs_dir)
    from tracee.v1beta1.datastores import ipreputation_pb2, writable_pb2, writable_pb2_grpc

    return ipreputation_pb2, writable_pb2, writable_pb2_grpc


def pack(spec, ipreputation_pb2):
    """An Any from a spec, packed with Python's Any.Pack (type.googleapis.com/...).

    {"ip": "192.0.2.1"}             -> IPAddressKey
    {"reputation": {...}}           -> IPReputation; fields in proto JSON form
                                       (status "REPUTATION_DENY", last_updated RFC 3339)
    {"value": <any JSON>}           -> google.protobuf.Value
    {"raw": {"type_url": ..., "value_b64": ...}} -> an Any as given, unchecked
    """
    any_msg = any_pb2.Any()
    if "ip" in spec:
        any_msg.Pack(ipreputation_pb2.IPAddressKey(ip=spec["ip"]))
    elif "reputation" in spec:
        rep = ipreputation_pb2.IPReputation()
        json_format.ParseDict(spec["reputation"], rep)
        any_msg.Pack(rep)
    elif "value" in spec:
        value = struct_pb2.Value()
        json_format.ParseDict(spec["value"], value)
        any_msg.Pack(value)
    elif "raw" in spec:
        any_msg.type_url = spec["raw"]["type_url"]
        any_msg.value = base64.b64decode(spec["raw"].get("value_b64", ""))
    else:
        raise ValueError("unknown Any spec: %r" % (spec,))
    return any_msg


KNOWN_TYPES = None


def known_types(ipreputation_pb2):
    global KNOWN_TYPES
    if KNOWN_TYPES is None:
        KNOWN_TYPES = {
            "tracee.v1beta1.datastores.IPAddressKey": ipreputation_pb2.IPAddressKey,
            "tracee.v1beta1.datastores.IPReputation": ipreputation_pb2.IPReputation,
            "google.protobuf.Value": struct_pb2.Value,
            "google.protobuf.StringValue": None,
        }
        from google.protobuf import wrappers_pb2

        KNOWN_TYPES["google.protobuf.StringValue"] = wrappers_pb2.StringValue
    return KNOWN_TYPES


def describe(any_msg, ipreputation_pb2):
    """An Any as JSON: its type URL and bytes, and what Python unpacks it to.

    {"type_url", "value_hex", "type_name", "message"} where message is the
    unpacked message in proto JSON form (snake_case names), or "error" when
    it cannot be unpacked.
    """
    out = {
        "type_url": any_msg.type_url,
        "value_hex": binascii.hexlify(any_msg.value).decode("ascii"),
        "type_name": any_msg.TypeName(),
    }
    cls = known_types(ipreputation_pb2).get(any_msg.TypeName())
    if cls is None:
        out["error"] = "unknown type"
        return out
    msg = cls()
    try:
        if not any_msg.Unpack(msg):
            out["error"] = "type mismatch"
            return out
        out["message"] = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    except Exception as err:  # malformed bytes
        out["error"] = "%s: %s" % (type(err).__name__, err)
    return out


def emit(line_prefix, payload):
    """Prints one JSON line (with a prefix when given) and flushes."""
    text = json.dumps(payload, sort_keys=True)
    sys.stdout.write(("%s %s\n" % (line_prefix, text)) if line_prefix else text + "\n")
    sys.stdout.flush()
