"""`make train` / `python -m training`: the bank-adapted model and the learned fusion, in three stages.

1. `holdout`: the adapter trained without a fixed 20 % of the bank's documents
   (models/sovei-e5-lora-holdout.safetensors): the generalization check, and stage 2's model;
2. `fusion`: the learned fusion fitted on questions that adapter never saw (models/fusion.json), then the answer
   box's confidence for that fusion's scores (its field `answer`);
3. `adapter`: the served adapter, trained on everything (models/sovei-e5-lora.safetensors).

`--stage answer` refits only the answer box's confidence (training/answer.py; a minute), for the fusion in place.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from indexer.adapter import ADAPTER_FILE, HOLDOUT_ADAPTER_FILE, read_card
from indexer.errors import SoveiError
from indexer.settings import Settings
from search_api.learned_fusion import FUSION_FILE

from .fit import TrainConfig, train

STAGES = ("holdout", "fusion", "adapter")
"""What `make train` runs; `answer` is also part of `fusion`."""
ORDER = ("holdout", "fusion", "answer", "adapter")
"""Stages run in this order whatever order they are asked in: each reads what the one before it wrote."""
ONLY = tuple(s for s in ORDER if s not in STAGES)
"""Stages only asked for by name."""
HOLDOUT_FRACTION = 0.2


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, TrainConfig]:
    """The command line, and the recipe it asks for."""
    d = TrainConfig()
    ap = argparse.ArgumentParser(prog="python -m training", description="Train the bank-adapted embedding model "
                                 "and the learned fusion (make train).")
    ap.add_argument("--stage", action="append", choices=STAGES + ONLY,
                    help="stage to run (repeatable; default: all three; `answer`: only the answer box's confidence)")
    ap.add_argument("--out", help="write the adapter of a single adapter stage here instead (experiments)")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--epochs", type=float, default=d.epochs)
    ap.add_argument("--batch-size", type=int, default=d.batch_size)
    ap.add_argument("--learning-rate", type=float, default=d.learning_rate)
    ap.add_argument("--rank", type=int, default=d.rank, help="LoRA rank")
    ap.add_argument("--alpha", type=float, default=d.alpha, help="LoRA alpha (scale = alpha / rank)")
    ap.add_argument("--scale", type=float, default=d.scale, help="the loss's scale (1 / temperature)")
    ap.add_argument("--first-layer", type=int, default=d.first_layer, help="LoRA on this layer and above")
    ap.add_argument("--max-tokens", type=int, default=d.max_tokens)
    ap.add_argument("--no-norquad", action="store_true", help="leave norquad-train out")
    ap.add_argument("--fusion-questions", action="store_true",
                    help="also train the served adapter on the fusion's paraphrase and law questions (experiment)")
    ap.add_argument("--reworded", type=share, default=d.reworded,
                    help="share of the reworded questions of the training documents to train on, drawn by the seed "
                         "(0 = none; experiment)")
    ap.add_argument("--misspelt", type=share, default=d.misspelt,
                    help="share of the bank's questions every epoch after the first sees misspelt (0 = none)")
    ap.add_argument("--directions", default=",".join(d.directions),
                    help="the loss's directions, comma-separated: query_to_doc (always), doc_to_query, query_to_query, "
                         "doc_to_doc (experiment)")
    ap.add_argument("--hardness", type=float, default=d.hardness,
                    help="hardness weighting of the mined hard negatives (0 = off; experiment)")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N examples only (tests)")
    ap.add_argument("--cv", action="store_true", help="fusion stage: also print the fusion's cross-validated "
                    "reciprocal rank per kind of collection, against each retriever alone (the training questions)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--one-at-a-time", action="store_true", help="train the holdout and served adapters one after "
                    "the other on all threads, instead of side by side on half of them each")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--recipe", help=argparse.SUPPRESS)  # a child's whole TrainConfig, from its parent (JSON)
    args = ap.parse_args(argv)
    if args.recipe:
        return args, TrainConfig(**json.loads(args.recipe))
    try:
        directions = _directions(args.directions)
    except ValueError as exc:
        ap.error(str(exc))
    config = TrainConfig(seed=args.seed, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, rank=args.rank, alpha=args.alpha, scale=args.scale,
                         max_tokens=args.max_tokens, first_layer=args.first_layer, norquad=not args.no_norquad,
                         fusion_questions=args.fusion_questions, reworded=args.reworded,
                         misspelt=args.misspelt,
                         directions=directions, hardness=args.hardness, limit=args.limit)
    return args, config


def share(text: str) -> float:
    """A share from 0 to 1 (argparse names the option when this refuses a value)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share from 0 to 1")
    return value


DIRECTIONS = ("query_to_doc", "doc_to_query", "query_to_query", "doc_to_doc")
"""The loss's directions (sentence-transformers checks them too, but only once the examples are built: minutes)."""


def _directions(text: str) -> tuple[str, ...]:
    asked = tuple(x.strip() for x in text.split(",") if x.strip())
    bad = [x for x in asked if x not in DIRECTIONS]
    if bad or "query_to_doc" not in asked:
        raise ValueError(f"--directions {text!r}: must include query_to_doc; valid: {', '.join(DIRECTIONS)}")
    return tuple(x for x in DIRECTIONS if x in asked)


def main(argv: list[str] | None = None) -> int:
    args, config = parse(argv)
    stages = ordered(args.stage or list(STAGES))
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        progress = lambda it=None, **kw: tqdm(it, leave=False, dynamic_ncols=True, **kw)  # noqa: E731
    settings = Settings.from_env()
    started = time.perf_counter()
    side_by_side = ({"holdout", "adapter"} <= set(stages) and not args.out and not args.one_at_a_time
                    and settings.threads >= 2)
    try:
        if side_by_side:
            _side_by_side(settings, config, quiet=args.quiet)
        for stage in [s for s in stages if not (side_by_side and s in ("holdout", "adapter"))]:
            if stage == "fusion":
                _fusion(settings, config, args.cv)
                continue
            if stage == "answer":
                _answer(settings)
                continue
            out = args.out or (HOLDOUT_ADAPTER_FILE if stage == "holdout" else ADAPTER_FILE)
            cfg = dataclasses.replace(config, holdout_fraction=HOLDOUT_FRACTION if stage == "holdout" else 0.0)
            print(f"== {stage}: training {out}")
            card = train(settings, cfg, out, progress=progress)
            loss = (f"loss {card['loss_first_logged']:.3f} → {card['loss_last_logged']:.3f}"
                    if card["loss_first_logged"] is not None else f"loss {card['train_loss']:.3f}")
            print(f"Wrote {out} (sha256 {card['sha256'][:12]}): {card['data']['examples']} examples "
                  f"{card['data']['by_source']}, {card['steps']} steps in {card['seconds']} s, {loss}.")
    except SoveiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.child:
        return 0
    after = ("Next: `make eval` (the answer box's sweep)." if set(stages) <= set(ONLY)
             else "Next: `make index` (the new model id re-embeds the bank) and `make eval`.")
    print(f"make train: {', '.join(stages)} in {time.perf_counter() - started:.0f} s. {after}")
    return 0


def ordered(asked: list[str]) -> list[str]:
    """The asked stages in `ORDER`; `answer` is dropped when `fusion` runs (which fits it too)."""
    return [s for s in ORDER if s in asked and not (s == "answer" and "fusion" in asked)]


def recipe_args(config: TrainConfig) -> list[str]:
    """The option that gives a child process this recipe: every field, so none can be left behind."""
    return ["--recipe", json.dumps(dataclasses.asdict(config))]


def _side_by_side(settings: Settings, config: TrainConfig, quiet: bool) -> None:
    """Train the holdout and served adapters at once, each in its own process on half of the threads.

    A step's small matrix products use a second thread poorly, so two processes on one thread each finish sooner
    than one after the other on two (measured: evaluations/README.md, «Session 12»).
    """
    import os
    import subprocess

    from .examples import prepare_pool

    # both stages choose passages from the same untrained model's index: build it once, before they start
    prepare_pool(settings, config.norquad)
    threads = str(max(1, settings.threads // 2))
    print(f"== holdout and adapter: training side by side, {threads} thread(s) each"
          + ("" if quiet else " (progress shown for the served adapter, the longer of the two)"))
    children = {}
    for stage in ("holdout", "adapter"):
        cmd = [sys.executable, "-m", "training", "--child", "--stage", stage, *recipe_args(config)]
        if quiet or stage == "holdout":
            cmd.append("--quiet")
        children[stage] = subprocess.Popen(cmd, env={**os.environ, "SOVEI_THREADS": threads})
    failed = [stage for stage, child in children.items() if child.wait() != 0]
    if failed:
        raise SoveiError(f"the {' and '.join(failed)} stage failed (its error is printed above); a failed stage "
                         "writes nothing, so the adapter in models/ is the one it had")


def _fusion(settings: Settings, config: TrainConfig, cv: bool = False) -> None:
    from . import fusion
    from .examples import NORQUAD_TRAIN, norquad_questions

    _require_holdout()
    card = read_card(HOLDOUT_ADAPTER_FILE)
    unused = norquad_questions(config.seed)[1] if config.norquad and (NORQUAD_TRAIN / "qrels.tsv").exists() else []
    print(f"== fusion: fitting {FUSION_FILE}")
    data = fusion.fit(settings, HOLDOUT_ADAPTER_FILE, card["data"]["holdout_documents"], unused, config.seed,
                      cv=cv)
    # the answer box's confidence reads this fusion's scores: it is fitted on the new fusion before the served file
    # is replaced, so that file never holds a fusion without its confidence
    staged = FUSION_FILE.with_name(FUSION_FILE.stem + ".new.json")
    fusion.write(staged, data)
    try:
        data["answer"] = _confidence(settings, staged)
    finally:
        staged.unlink(missing_ok=True)
    sha = fusion.write(FUSION_FILE, data)
    weights = ", ".join(f"{k} {v:+.3f}" for k, v in data["weights"].items())
    print(f"Wrote {FUSION_FILE} (sha256 {sha[:12]}): {weights}; bias {data['bias']:+.3f}; field answer as above")


def _require_holdout() -> None:
    """The fusion and the answer box's confidence are fitted on the holdout adapter's rankings."""
    if not HOLDOUT_ADAPTER_FILE.exists():
        raise SoveiError(f"{HOLDOUT_ADAPTER_FILE} is missing: run the holdout stage first "
                         "(python -m training --stage holdout).")


def _answer(settings: Settings) -> None:
    from . import answer

    sha = answer.write(FUSION_FILE, _confidence(settings, FUSION_FILE))
    print(f"Wrote {FUSION_FILE} (sha256 {sha[:12]}): field answer as above; the fusion's weights as they were")


def _confidence(settings: Settings, fusion_file) -> dict:
    """The answer box's confidence for the fusion in `fusion_file` (training/answer.py)."""
    from search_api import learned_fusion

    from . import answer

    _require_holdout()
    learned_fusion.load.cache_clear()  # the file at this path may have been rewritten in this process
    print(f"== answer: fitting the answer box's confidence for the fusion in {fusion_file.name}")
    block = answer.fit(dataclasses.replace(settings, fusion_model=fusion_file))
    print(f"answer: bias {block['bias']:+.3f}, score {block['score']:+.3f}, lead {block['lead']:+.3f} "
          f"({block['card']['top_hit_right']} of {block['card']['questions']} top hits right)")
    return block


if __name__ == "__main__":
    sys.exit(main())
