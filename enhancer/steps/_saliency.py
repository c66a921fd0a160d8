"""The learned saliency matte: U^2-Net-p run through OpenCV's DNN module, on the CPU.

The network (Qin et al., 2020; Apache-2.0, see enhancer/models/NOTICE) ships
inside the package; nothing is downloaded. It is read once per process, on
first use, and its checksum is verified before OpenCV parses it, so a
truncated or altered file fails with a message naming it instead of an
obscure parser error or, worse, a silently wrong matte.
"""
from __future__ import annotations

import hashlib
import threading
from importlib import resources

import cv2
import numpy as np

from .._alloc import give_back_freed_memory, heap_only
from ..errors import ModelError

MODEL_FILE = "u2netp.onnx"
MODEL_SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
NET_SIDE = 320  # the resolution the network was trained at (and needs where it alone decides)
# d0, the fused map (the graph's first output); a bare forward() returns d6, the coarsest side output
_OUTPUT = "1959"
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics the network expects
_STD = np.array([0.229, 0.224, 0.225], np.float32)
# After a forward pass OpenCV keeps every layer's output (about 220 MB at 320 px)
# for the next call; one pass at this size shrinks them to a few MB.
_RELEASE_SIDE = 64

_lock = threading.Lock()
_net = None


def model_path():
    """Where the packaged weights live (a Traversable; a real file in a normal install)."""
    return resources.files("enhancer.models") / MODEL_FILE


def _load(path=None):
    where = path if path is not None else model_path()
    try:
        blob = where.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read the background model {where}: {e}; reinstall pixel-lab "
                         "(the file ships with the package)") from e
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelError(f"the background model {where} is corrupt (sha256 {digest[:12]}..., expected "
                         f"{MODEL_SHA256[:12]}..., {len(blob)} bytes); reinstall pixel-lab or restore the file "
                         "from the repository")
    try:
        # The classic engine frees its layer buffers when the input shrinks (see
        # _RELEASE_SIDE); OpenCV 5 ignores the engine for an in-memory model, so
        # the (just verified) file is read by path.
        with resources.as_file(where) as local:
            net = cv2.dnn.readNetFromONNX(str(local), cv2.dnn.ENGINE_CLASSIC)
        # Winograd convolutions: 210 ms instead of 400 at 320 px on 2 AMD EPYC cores (on a Xeon seen before,
        # no faster), for about 120 MB more while the network runs (released with the rest after it)
        net.enableWinograd(True)
        return net
    except cv2.error as e:
        raise ModelError(f"OpenCV could not read the background model {where}: {e}") from e


def _get_net():
    global _net
    if _net is None:
        _net = _load()
    return _net


def saliency(rgb: np.ndarray, *, side: int = NET_SIDE) -> np.ndarray:
    """Per-pixel probability of "salient object", (side, side) float32 in [0, 1].

    ``rgb`` is any size (it is squeezed to the network's square input, as the
    network was trained); resize the result back to the caller's grid. The
    network is fully convolutional: a smaller ``side`` (a multiple of 32)
    costs proportionally less time and memory for a coarser map.
    Thread-safe (one network per process, calls serialised).

    Raises
    ------
    ModelError
        If the packaged model file is missing or corrupt.
    """
    x = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    x *= 1.0 / max(1.0, float(x.max()))  # the network was trained on images scaled by their maximum
    x -= _MEAN
    x /= _STD
    blob = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    with _lock:
        net = _get_net()
        give_back_freed_memory()  # what earlier photos freed, so the layer buffers do not stack on it
        with heap_only():  # one layer's freed temporaries are the next one's, not fresh maps
            net.setInput(blob)
            out = net.forward(_OUTPUT)[0, 0].copy()
            net.setInput(np.zeros((1, 3, _RELEASE_SIDE, _RELEASE_SIDE), np.float32))
            net.forward(_OUTPUT)
        give_back_freed_memory()  # those buffers, not kept for the full-resolution steps that follow
    return np.clip(out, 0.0, 1.0)
