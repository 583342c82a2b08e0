"""`python -m search_api` / `sovei-serve`: serve the page and API with uvicorn."""

from __future__ import annotations

import logging
import os
import sys

# Before torch and FAISS load their OpenMP runtimes: the service calls them from worker threads,
# where a parallel region costs more than it saves for one question (`make bench` prints the
# encoder's cost per thread placement; evaluations/README.md, «Service speed»). Questions go to
# SOVEI_THREADS encoder threads of one core each instead, which batch the questions waiting
# (indexer/embed.py QuestionBatcher).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    import uvicorn

    from indexer.errors import SoveiError
    from indexer.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # FAISS logs each CPU-specific build it fails to import before the one it loads: noise, not errors.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    try:
        settings = get_settings()  # an invalid setting stops here, before the model loads
        manifest = check_index(settings)
    except SoveiError as exc:
        print(f"Kan ikke starte: {exc}", file=sys.stderr)
        return 2
    print(law_line(manifest), flush=True)
    print(f"SoVei kunnskapsbank: http://{settings.host}:{settings.port}/  (Ctrl+C stopper)", flush=True)
    try:
        # access_log off: uvicorn would log full URLs, and query strings can describe a child.
        uvicorn.run("search_api.app:app_factory", factory=True, host=settings.host, port=settings.port,
                    access_log=False, log_level="info")
    except SoveiError as exc:
        print(f"Kan ikke starte: {exc}", file=sys.stderr)
        return 2
    return 0


def law_line(manifest) -> str:
    """One line on the law texts the served index holds, or why it holds none."""
    laws = manifest.laws.get("laws") or []
    if laws:
        return f"Lovtekster: {len(laws)} {'lov' if len(laws) == 1 else 'lover'} fra {', '.join(manifest.laws.get('law_dirs') or [])}."
    if manifest.laws.get("law_dirs"):
        return (f"Uten lovtekster: {', '.join(manifest.laws['law_dirs'])} har ingen lov i kraft; banken søker bare i "
                "egne dokumenter.")
    return ("Uten lovtekster: fant ingen lovmappe (SOVEI_LAW_DIRS, standard ../shared/corpus-public/laws); banken "
            "søker bare i egne dokumenter.")


def check_index(settings):
    """Fail before the server starts, with the fix, when there is no usable index; the manifest otherwise."""
    from indexer.analysis import ANALYZER
    from indexer.embed import load_embedder
    from indexer.manifest import Manifest

    manifest = Manifest.read(settings.current_index)
    manifest.check_compatible(load_embedder(settings.model, settings.threads).model_id, ANALYZER)
    if settings.fusion == "learned":
        from .learned_fusion import load

        load(settings.fusion_model)  # a missing or malformed model stops here, not at the first search
    return manifest


if __name__ == "__main__":
    sys.exit(main())
