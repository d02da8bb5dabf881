"""The whole loop, for real: practice sessions are logged, become a dataset, train a LoRA brain,
the brain is registered and loaded into a running vLLM server, and a live session swaps to it
mid-conversation and answers more like the logged student.

Everything runs here, on the CPU: the agent with the offline brain plays 24 short sessions of the
test persona ``kai`` (tests/data/e2e/kai.yaml) into a real SQLite store; trainers.datasets builds
and exports the dataset; trainers.lora trains with TRL + PEFT; a real vLLM server (CPU build)
serves the base model and the new adapter.

A random model writes noise and a rank-8 adapter on a random 2-layer model barely moves it, so
the base is first pretrained for a few seconds on the shipped personas' example exchanges
(Maya, Leo, Ava: none of Kai's replies), in the chat format the brains send. Because the server
must serve that base, this module starts its own vLLM server rather than the session's one.
"Moved toward the training replies" is measured on the server through ``prompt_logprobs``: the
mean log-likelihood of the logged replies given their prompts, base model vs new adapter, must
rise by a clear margin. After the live swap, the replies must come from the adapter: the adapter
finds them more likely than the base does. Greedy replies of a tiny model are printed, never
compared exactly: they depend on one machine's floating-point results. Every seed is fixed.
Marked ``e2e`` and ``vllm``: it never skips.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent import serving
from agent.brains.offline import OfflineBrain
from agent.brains.vllm_brain import VllmBrain
from agent.prompt import system_message
from agent.state import StudentState
from agent.student import StudentAgent
from personas.loader import PersonaLibrary
from personas.schema import Persona
from tests.plugins.models import free_port
from tests.tinymodel import BOS, CHAT_TEMPLATE, EOS, PAD, ROLE_TOKENS, SPECIAL_TOKENS, training_text
from trainers.datasets import Selection, build_dataset, write_openai
from trainers.lora import train_lora
from trainers.lora_config import LoraTrainingConfig
from trainers.lora_data import IGNORE_INDEX, ChatData, prompt_and_target, tokenize_row
from trainers.lora_register import load_into_server, register_brain
from transcripts.recorder import SessionRecorder
from transcripts.store import Store
from tui.practice import build_brain

pytestmark = [pytest.mark.e2e, pytest.mark.vllm]

PERSONAS = Path(__file__).parent / "data" / "e2e"
SESSIONS = 24
EXCHANGES = 3
SEED = 0  # the base's initialisation and pretraining order, the LoRA run, the dataset split
LOGLIK_MARGIN = 1.0  # nats per reply token; seen: -8.15 -> -2.77 and similar on other machines
KINDS = 5  # kai.yaml: five kinds of question, five examples each, one reply per kind
BRAIN = "kai-lora-v1"


def kai() -> Persona:
    return PersonaLibrary([PERSONAS], shipped=False).get("kai")


def system_prompt(persona: Persona) -> str:
    return system_message(persona, StudentState.initial(persona))  # what the brains send


# --- a base model that writes words -----------------------------------------------------------


def build_compact_tokenizer(out: Path, text: str, vocab_size: int = 1200) -> Any:
    """Byte-level BPE like tests/tinymodel.py, but merging across spaces: Kai's fixed system
    prompt becomes a few tokens, so a row costs ~30 tokens instead of ~300 on two CPU cores."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    raw.train_from_iterator(text.split("\n\n"), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token=BOS, eos_token=EOS, pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS), model_max_length=512,
        chat_template=CHAT_TEMPLATE,
    )  # fmt: skip
    tokenizer.save_pretrained(out)
    return tokenizer


def build_e2e_base(out: Path, *, epochs: int = 12, lr: float = 3e-3, seed: int = SEED) -> Path:
    """A tiny Llama shaped like tests/tinymodel.py (vLLM CPU accepts it), pretrained in full on
    the shipped personas' example exchanges under Kai's system prompt, in the chat template."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    system = system_prompt(kai())
    exchanges = [
        (example.teacher, example.student)
        for shipped in PersonaLibrary(folders=[]).list()
        for example in shipped.examples
    ]
    kai_text = (PERSONAS / "kai.yaml").read_text(encoding="utf-8")  # tokenizer only, never trained
    corpus = "\n\n".join(
        [*[system] * 200, training_text(), kai_text, *(f"{t}\n{s}" for t, s in exchanges)]
    )
    tokenizer = build_compact_tokenizer(out, corpus)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=64, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(torch.float32)
    rows = []
    for teacher, student in exchanges:
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": teacher},
            {"role": "assistant", "content": student},
        ]
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        rows.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    order = random.Random(seed)
    model.train()
    for _ in range(epochs):
        order.shuffle(rows)
        for start in range(0, len(rows), 16):
            batch = rows[start : start + 16]
            width = max(map(len, batch))
            ids = torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in batch])
            labels = torch.tensor([r + [IGNORE_INDEX] * (width - len(r)) for r in batch])
            mask = (labels != IGNORE_INDEX).long()
            model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def e2e_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_e2e_base(tmp_path_factory.mktemp("e2e-model") / "base")


@pytest.fixture(scope="module")
def e2e_server(
    e2e_base: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[serving.ServerRecord, Path]]:
    """A vLLM server on the pretrained base, started without waiting: it boots while the
    sessions are played and the adapter trains. Yields (record, its UTTA_HOME)."""
    home = tmp_path_factory.mktemp("e2e-serve-home")
    record = serving.start(
        base=str(e2e_base), port=free_port(), max_lora_rank=8, max_loras=2, dtype="float32",
        max_model_len=512, kv_cache_gb=1, key=False, extra_env={"HF_HUB_OFFLINE": "1"},
        home=home, wait=False,
    )  # fmt: skip
    try:
        yield record, home
    finally:
        serving.stop(home=home)


# --- the loop's steps -------------------------------------------------------------------------


async def play_sessions(store: Store, persona: Persona) -> None:
    """SESSIONS short lessons through the real agent, each on EXCHANGES kinds of question."""
    rng = random.Random(7)
    examples = persona.examples
    for n in range(SESSIONS):
        recorder = SessionRecorder.start(store, persona.id, f"trainee-{n % 3}", "offline")
        agent = StudentAgent(persona, OfflineBrain(persona), recorder=recorder)
        for kind in rng.sample(range(KINDS), EXCHANGES):
            example = examples[kind * 5 + rng.randrange(5)]
            assert await agent.reply(example.teacher) == example.student
        recorder.end()


def completions(base_url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{base_url}/v1/completions", json=body, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def reply_loglik(base_url: str, model: str, tokenizer: Any, rows: list[list[dict]]) -> float:
    """Mean log-probability per reply token (the trained tokens) of the logged replies."""
    total, count = 0.0, 0
    for messages in rows:
        row = tokenize_row(tokenizer, messages, 512, last_only=True)
        body = {"model": model, "prompt": row.input_ids, "max_tokens": 1, "prompt_logprobs": 0}
        logprobs = completions(base_url, body)["choices"][0]["prompt_logprobs"]
        for position, (token, label) in enumerate(zip(row.input_ids, row.labels, strict=True)):
            if label != IGNORE_INDEX:
                total += logprobs[position][str(token)]["logprob"]
                count += 1
    return total / count


def greedy_replies(base_url: str, model: str, rows: list[list[dict]]) -> list[tuple[str, str]]:
    """(greedy reply of ``model``, logged reply) for each row's last teacher message."""
    pairs = []
    for messages in rows:
        prompt, target = prompt_and_target(messages)
        body = {"model": model, "messages": prompt, "max_tokens": 12, "temperature": 0.0}
        response = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=120)
        assert response.status_code == 200, response.text
        pairs.append((response.json()["choices"][0]["message"]["content"].strip(), target))
    return pairs


def exact_match(pairs: list[tuple[str, str]]) -> float:
    """Reported for the reader only: exact greedy matches depend on the machine's numerics."""
    return sum(reply == target for reply, target in pairs) / len(pairs)


def spy_on_requests(brain: VllmBrain) -> list[list[dict[str, str]]]:
    """Record the chat messages ``brain`` is asked to answer (to score its replies later)."""
    asked: list[list[dict[str, str]]] = []
    stream = brain.stream

    async def recording(request):  # type: ignore[no-untyped-def]
        asked.append(request.as_chat_messages())
        async for chunk in stream(request):
            yield chunk

    brain.stream = recording  # type: ignore[method-assign]
    return asked


async def test_logged_sessions_train_a_brain_that_is_swapped_in_live(
    e2e_base: Path, e2e_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.perf_counter()
    record, server_home = e2e_server
    persona = kai()
    store = Store(tmp_path / "utta.db")

    # 1. Practice sessions through the real agent, logged in a real store.
    await play_sessions(store, persona)
    assert len(store.sessions(persona_id="kai")) == SESSIONS

    # 2. Build and export the dataset; train from the exported files.
    library = PersonaLibrary([PERSONAS], shipped=False)
    dataset = build_dataset(store, Selection("kai", targets="all"), library=library, seed=SEED)
    dataset.raise_if_bad()
    folder = write_openai(dataset, tmp_path / "data")
    data = ChatData.from_folder(folder)
    assert len(data.train) >= 30 and data.validation

    # 3. LoRA-train on the pretrained base.
    config = LoraTrainingConfig(
        base=str(e2e_base), persona="kai", output_dir=tmp_path / "brains" / BRAIN, epochs=12,
        lr=1e-2, batch_size=4, dropout=0.0, early_stopping_patience=0, samples=0, seed=SEED,
    )  # fmt: skip
    result = train_lora(config, data, log=print, progress=False)
    assert result.unchanged_parameters == []
    assert result.history[-1].val_loss < result.history[0].val_loss  # type: ignore[operator]

    # 4. Register it with its lineage.
    brain_row = register_brain(store, BRAIN, result, kind="vllm")
    lineage = store.brain(BRAIN).lineage
    assert brain_row.kind == "vllm" and store.brain(BRAIN).persona_id == "kai"
    assert lineage["dataset"]["content_hash"] == dataset.manifest["content_hash"]
    assert lineage["method"] == "lora" and lineage["base"] == str(e2e_base)
    assert lineage["metrics"]["val_loss"] == [h.val_loss for h in result.history]

    # 5. Load it into the running server, without a restart.
    serving.wait_until_ready(record, timeout=300)
    pid = record.pid
    load_into_server(result.adapter_dir, BRAIN, base=str(e2e_base), home=server_home)
    entries = {e["id"]: e for e in serving.model_entries(record.base_url)}
    assert entries[BRAIN]["parent"] == record.model
    assert serving.read_record(server_home).pid == pid  # type: ignore[union-attr]

    # 6. The adapter's replies moved toward the logged ones.
    from trainers.lora import load_tokenizer

    tokenizer = load_tokenizer(str(e2e_base))
    rows = data.train[:16]
    before = reply_loglik(record.base_url, record.model, tokenizer, rows)
    after = reply_loglik(record.base_url, BRAIN, tokenizer, rows)
    replies_before = greedy_replies(record.base_url, record.model, rows)
    replies_after = greedy_replies(record.base_url, BRAIN, rows)
    match_before, match_after = exact_match(replies_before), exact_match(replies_after)
    from trainers.metric import mean_authenticity

    authentic = [
        mean_authenticity([reply for reply, _ in pairs], persona)
        for pairs in (replies_before, replies_after)
    ]
    report = (
        f"logged replies: mean log-likelihood per token {before:.3f} -> {after:.3f}; "
        f"greedy exact match {match_before:.0%} -> {match_after:.0%}; "
        f"authenticity {authentic[0]:.3f} -> {authentic[1]:.3f}\n"
        f"(base, adapter, logged): "
        f"{[(b, a, t) for (b, t), (a, _) in zip(replies_before, replies_after, strict=True)]}"
    )
    print(report)
    assert after > before + LOGLIK_MARGIN, report

    # 7. A live session starts on the base model and swaps to the new brain mid-conversation.
    monkeypatch.setenv("UTTA_HOME", str(server_home))  # where the server is recorded
    opening = VllmBrain(name="kai-base", server_url=record.base_url, temperature=0, max_tokens=12)
    recorder = SessionRecorder.start(store, "kai", "trainee-live", opening.id)
    agent = StudentAgent(persona, opening, recorder=recorder)
    lines = [persona.examples[k * 5].teacher for k in range(KINDS)]
    for line in lines[:2]:
        assert (await agent.reply(line)).strip()
    trained = await asyncio.to_thread(build_brain, BRAIN, store, persona)
    assert isinstance(trained, VllmBrain) and trained.model == BRAIN
    trained.temperature, trained.max_tokens = 0.0, 12
    asked = spy_on_requests(trained)
    await agent.swap(trained)
    live = [await agent.reply(line) for line in lines[2:]]
    assert all(reply.strip() for reply in live)
    await opening.aclose()
    await trained.aclose()

    # The replies after the swap came from the adapter: it finds them likelier than the base.
    answered = [[*m, {"role": "assistant", "content": r}] for m, r in zip(asked, live, strict=True)]
    live_base = reply_loglik(record.base_url, record.model, tokenizer, answered)
    live_adapter = reply_loglik(record.base_url, BRAIN, tokenizer, answered)
    print(f"live replies after the swap {live}: log-likelihood per token under the base "
          f"{live_base:.3f}, under the adapter {live_adapter:.3f}")  # fmt: skip
    assert live_adapter > live_base, (live, live_base, live_adapter)

    turns = store.turns(recorder.session_id)
    assert [t.brain_id for t in turns if t.role == "student"] == ["kai-base"] * 2 + [BRAIN] * 3
    (swap,) = store.swaps(recorder.session_id)
    assert (swap.from_brain, swap.to_brain, swap.accepted, swap.at_turn) == (
        "kai-base", BRAIN, True, 4,
    )  # fmt: skip
    assert len(agent.memory) == 2 * KINDS  # the conversation went on across the swap
    elapsed = time.perf_counter() - started
    print(f"e2e loop: {elapsed:.0f} s after fixtures; training {result.runtime_s:.0f} s")
