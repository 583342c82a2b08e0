"""An index generation as one file: built once, published, installed on every host that serves.

    python -m indexer --publish DIR    # DIR/sovei-index-<generation>.tar.gz and DIR/….tar.gz.sha256
    python -m indexer --install FILE   # checked, unpacked beside the generations, then made current

The artifact is a gzip'd tar of one generation folder with `SHA256SUMS` inside (each file's sha256, in
`sha256sum` format); the `.sha256` file beside it holds the artifact's own sha256 (`sha256sum -c` reads
it). An install unpacks into an `.installing-*` folder of the index folder and checks, in this order, the
artifact's sha256 (when its `.sha256` file is there), that the tar is complete and holds one generation
folder and nothing else, every file against `SHA256SUMS`, and the manifest against this code and
SOVEI_MODEL. Only then is the folder renamed into place and `current` pointed at it — the same swap as a
build (`write.swap_in`) — so a corrupt, truncated or foreign artifact changes nothing that is served.
The generation keeps its name on every host: /healthz shows the same generation everywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import analysis
from .errors import ArtifactError, IndexMismatchError, IndexMissingError
from .manifest import FORMAT_VERSION, Manifest
from .write import make_current, swap_in

SUMS = "SHA256SUMS"
GENERATION = re.compile(r"^gen-[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class Published:
    path: Path
    sha256: str
    generation: str
    bytes: int
    new: bool = True
    """False: this generation's artifact was already in the folder, whole (its .sha256 matched); left as it was."""


def artifact_name(generation: str) -> str:
    return f"sovei-index-{generation}.tar.gz"


def publish_artifact(index_dir: Path, out_dir: Path) -> Published:
    """Pack the current generation of index_dir into out_dir, with its checksum file beside it."""
    current = Path(index_dir) / "current"
    Manifest.read(current)  # no index: IndexMissingError with the fix
    folder = current.resolve()
    generation = folder.name
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _file_sums(folder)
    sums = "".join(f"{digest}  {rel}\n" for rel, digest in files.items())
    path = out_dir / artifact_name(generation)
    sidecar = path.with_name(path.name + ".sha256")
    if path.is_file() and sidecar.is_file():
        # published before (a timer runs this after each --if-stale): the same file keeps rsync and installs idle
        digest = _sha256(path)
        if sidecar.read_text(encoding="utf-8").split()[:1] == [digest]:
            return Published(path, digest, generation, path.stat().st_size, new=False)
    tmp = out_dir / f".{path.name}.{os.getpid()}.tmp"
    try:
        with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            for rel in files:
                tar.add(folder / rel, arcname=f"{generation}/{rel}", filter=_plain)
            info = tarfile.TarInfo(f"{generation}/{SUMS}")
            data = sums.encode()
            info.size, info.mtime, info.mode = len(data), int(folder.stat().st_mtime), 0o644

            tar.addfile(info, io.BytesIO(data))
        digest = _sha256(tmp)
        os.replace(tmp, path)  # the artifact first: a checksum file never names a half-written artifact
        side_tmp = tmp.with_suffix(".sha256")
        side_tmp.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
        os.replace(side_tmp, sidecar)
    finally:
        tmp.unlink(missing_ok=True)
    return Published(path, digest, generation, path.stat().st_size)


def install_artifact(index_dir: Path, artifact: Path, model_id: str) -> tuple[str, bool]:
    """Check an artifact and make its generation current in index_dir: (generation, newly installed).

    Raises ArtifactError, naming the file and what is wrong, before anything served changes."""
    artifact, index_dir = Path(artifact), Path(index_dir)
    if not artifact.is_file():
        raise ArtifactError(f"{artifact}: no such file")
    sidecar = artifact.with_name(artifact.name + ".sha256")
    if sidecar.exists():
        expected = (sidecar.read_text(encoding="utf-8").split() or [""])[0].lower()
        actual = _sha256(artifact)
        if actual != expected:
            raise ArtifactError(f"{artifact}: its sha256 is {actual}, but {sidecar.name} says {expected or 'nothing'}; "
                                "the file is corrupt or truncated: copy it again")
    index_dir.mkdir(parents=True, exist_ok=True)
    for stale in index_dir.glob(".installing-*"):
        shutil.rmtree(stale, ignore_errors=True)  # left by an install that was killed
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=index_dir))
    try:
        generation = _unpack(artifact, staging)
        folder = staging / generation
        _check_sums(artifact, folder)
        _check_manifest(artifact, folder, model_id)
        target = index_dir / generation
        if target.exists():
            if _file_sums(target) != _file_sums(folder):
                raise ArtifactError(f"{artifact}: {target} already exists with other contents; remove it or "
                                    "publish the generation again")
            make_current(index_dir, generation)
            return generation, False
        os.utime(folder)  # the newest generation for pruning (`write._prune`), whenever it was built
        swap_in(index_dir, folder, generation)
        return generation, True
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(artifact: Path, staging: Path) -> str:
    """Extract the one generation folder the tar holds; refuse links, devices and paths outside it."""
    try:
        # the whole gzip stream first: its length and CRC catch a truncated or corrupted file that tarfile
        # alone may read as a shorter archive (it stops quietly at a header it cannot parse)
        with gzip.open(artifact, "rb") as stream:
            while stream.read(1 << 20):
                pass
        with tarfile.open(artifact, "r:gz") as tar:
            members = tar.getmembers()
            tops = {m.name.split("/", 1)[0] for m in members}
            if len(tops) != 1 or not GENERATION.match(next(iter(tops))):
                raise ArtifactError(f"{artifact}: not a SoVei index artifact (it must hold one gen-* folder; "
                                    f"found {', '.join(sorted(tops))[:200] or 'nothing'})")
            for m in members:
                if not (m.isfile() or m.isdir()) or ".." in m.name.split("/") or m.name.startswith("/"):
                    raise ArtifactError(f"{artifact}: refused member {m.name!r} (only plain files and folders "
                                        "inside the generation folder)")
            tar.extractall(staging, filter="data")
    except ArtifactError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise ArtifactError(f"{artifact}: the file is truncated or corrupt, or not a .tar.gz ({exc}); "
                            "copy it again") from None
    return next(iter(tops))


def _check_sums(artifact: Path, folder: Path) -> None:
    listed = folder / SUMS
    if not listed.is_file():
        raise ArtifactError(f"{artifact}: no {SUMS} in {folder.name}/: the artifact is incomplete, or was not made "
                            "by `python -m indexer --publish`")
    expected = {}
    for line in listed.read_text(encoding="utf-8").splitlines():
        digest, _, rel = line.partition("  ")
        expected[rel] = digest
    actual = _file_sums(folder)
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            raise ArtifactError(f"{artifact}: {folder.name}/{rel} is listed in {SUMS} but missing")
        if rel not in expected:
            raise ArtifactError(f"{artifact}: {folder.name}/{rel} is not listed in {SUMS}")
        if actual[rel] != expected[rel]:
            raise ArtifactError(f"{artifact}: {folder.name}/{rel} does not match its sha256 in {SUMS}; "
                                "the artifact is corrupt: publish it again")


def _check_manifest(artifact: Path, folder: Path, model_id: str) -> None:
    try:
        m = Manifest.read(folder)
    except (IndexMissingError, IndexMismatchError) as exc:
        raise ArtifactError(f"{artifact}: {exc}") from None
    if m.format_version != FORMAT_VERSION:
        raise ArtifactError(f"{artifact}: index format {m.format_version}, but this code reads {FORMAT_VERSION}; "
                            "publish it from a host that runs the same version")
    if m.analyzer != analysis.ANALYZER:
        raise ArtifactError(f"{artifact}: analyzer {m.analyzer!r}, but this code has {analysis.ANALYZER!r}; "
                            "publish it from a host that runs the same version")
    if m.model_id != model_id:
        raise ArtifactError(f"{artifact}: built with model {m.model_id!r}, but SOVEI_MODEL gives {model_id!r} "
                            f"here; set SOVEI_MODEL={m.model_setting} or publish from a host with the same model")


def _file_sums(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder (but SHA256SUMS itself), by relative path, sorted."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != SUMS)
    return {p.relative_to(folder).as_posix(): _sha256(p) for p in files}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No owner names or ids from the building host."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
