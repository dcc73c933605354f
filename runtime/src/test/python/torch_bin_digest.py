"""Independent reading of a torch.save zip for PyTorchPickleCheckpointTest, with plain Python (no torch).

Python's own pickle machine runs data.pkl; torch's globals are replaced by stubs that record the rebuild
arguments, persistent ids by a lookup of the zip's data/ entries. Each tensor is materialized row-major as
float32 with struct and digested. Usage: python3 torch_bin_digest.py pytorch_model.bin > digest.json
"""
import hashlib, json, pickle, struct, sys, zipfile
from collections import OrderedDict

FORMATS = {"FloatStorage": ("f", 4), "HalfStorage": ("e", 2), "BFloat16Storage": ("bf16", 2)}


class Storage:
    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel


class View:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    return View(storage, offset, size, stride)


class StubUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if module == "torch" and name in FORMATS:
            return name
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        tag, kind, key, location, numel = pid
        return Storage(kind, key, numel)


def values(zf, prefix, view):
    fmt, size = FORMATS[view.storage.kind]
    raw = zf.read(f"{prefix}data/{view.storage.key}")
    def element(i):
        b = raw[i * size:(i + 1) * size]
        if fmt == "bf16":
            return struct.unpack("<f", b"\x00\x00" + b)[0]
        return struct.unpack("<" + fmt, b)[0]
    out = []
    def walk(dim, index):
        if dim == len(view.size):
            out.append(element(index))
            return
        for k in range(view.size[dim]):
            walk(dim + 1, index + k * view.stride[dim])
    walk(0, view.offset)
    return out


def main(path):
    zf = zipfile.ZipFile(path)
    pkl = [n for n in zf.namelist() if n.endswith("/data.pkl")][0]
    prefix = pkl[: -len("data.pkl")]
    sd = StubUnpickler(__import__("io").BytesIO(zf.read(pkl))).load()
    digest = {}
    for name, view in sd.items():
        vals = values(zf, prefix, view)
        packed = struct.pack(f"<{len(vals)}f", *vals)
        digest[name] = {"dtype": view.storage.kind, "shape": list(view.size), "storage": view.storage.key,
                        "sha256": hashlib.sha256(packed).hexdigest(), "first": vals[:4], "sum": sum(vals)}
    json.dump(digest, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
