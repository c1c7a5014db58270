"""A minimal CRI client: what the kubelet sends to containerd, over gRPC on a unix socket.

The messages come from cri.proto (the part of k8s.io/cri-api runtime/v1 the tests use),
compiled at test time with grpcio-tools: generated protobuf modules check the protobuf
runtime's version when imported, so a committed one would break on the next protobuf.
"""
from __future__ import annotations

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def compile_messages(out_dir: str):
    """Compile cri.proto into `out_dir` and import it (module cri_pb2)."""
    from grpc_tools import protoc
    status = protoc.main(["protoc", f"-I{HERE}", f"--python_out={out_dir}", os.path.join(HERE, "cri.proto")])
    if status != 0:
        raise RuntimeError(f"protoc failed on {HERE}/cri.proto (exit {status})")
    sys.path.insert(0, out_dir)
    try:
        return importlib.import_module("cri_pb2")
    finally:
        sys.path.remove(out_dir)


class CriClient:
    """cri.call("RunPodSandbox", config=..., runtime_handler="nsbox") -> the reply message."""

    IMAGE_METHODS = frozenset({"ImageStatus", "PullImage", "ListImages", "RemoveImage"})

    def __init__(self, messages, socket_path: str) -> None:
        import grpc
        self.messages = messages
        self.channel = grpc.insecure_channel(f"unix://{socket_path}")

    def call(self, method: str, deadline: float = 60, **fields):
        """`fields` make the request message (a field may be named timeout: ExecSync's,
        StopContainer's); `deadline` is gRPC's, in seconds."""
        service = "ImageService" if method in self.IMAGE_METHODS else "RuntimeService"
        request_type = getattr(self.messages, f"{method}Request")
        response_type = getattr(self.messages, f"{method}Response")
        stub = self.channel.unary_unary(f"/runtime.v1.{service}/{method}",
                                        request_serializer=request_type.SerializeToString,
                                        response_deserializer=response_type.FromString)
        return stub(request_type(**fields), timeout=deadline)

    def close(self) -> None:
        self.channel.close()
