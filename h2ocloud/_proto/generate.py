"""Regenerate the protobuf/gRPC modules from proto/ (run: python -m h2ocloud._proto.generate).

The generated files are checked in so an install needs no protoc; tests/test_proto.py fails when
they are stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
OUT_DIR = Path(__file__).resolve().parent


def generate(out_dir: Path = OUT_DIR) -> list[Path]:
    """Run grpc_tools.protoc over every .proto file into out_dir; return the files written."""
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    args = ["protoc", f"-I{PROTO_DIR}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *protos]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    written = []
    for path in out_dir.rglob("*_pb2*.py"):
        # protoc writes absolute imports ("from h2ocloud.v1 import ..."): make them package-relative
        # to h2ocloud._proto so the generated code lives inside our package.
        text = path.read_text()
        text = re.sub(r"^from h2ocloud\.v1 import", "from h2ocloud._proto.h2ocloud.v1 import", text, flags=re.M)
        path.write_text(text)
        written.append(path)
    for d in [out_dir / "h2ocloud", out_dir / "h2ocloud" / "v1"]:
        (d / "__init__.py").touch()
    return written


if __name__ == "__main__":
    for p in generate():
        print(p)
    sys.exit(0)
