"""A tiny Llama, its tokenizer and LoRA adapters, built on the fly and offline.

No model hub is reachable here and no pretrained generative model ships on PyPI, so tests build
their own (see ../shared/ENVIRONMENT.md): a byte-level BPE tokenizer trained on a few KB of
text, wrapped in ``PreTrainedTokenizerFast`` with a chat template, and a random ``LlamaConfig``
model small enough to load in a second yet shaped so that vLLM's CPU attention accepts it
(head_dim 64). The model writes noise; it is for plumbing tests, not for judging replies.

Usage::

    base = build_tiny_model(tmp / "base")
    a = make_lora_adapter(base, tmp / "adapter-a", seed=1)
    b = make_lora_adapter(base, tmp / "adapter-b", seed=2)

Heavy libraries (tokenizers, transformers, torch, peft) are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PERSONAS = REPO_ROOT / "personas" / "shipped"

BOS = "<|begin|>"
EOS = "<|end|>"
PAD = "<|pad|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = [PAD, BOS, EOS, *ROLE_TOKENS]

# Renders each turn as "<|role|>\ncontent<|end|>\n"; the generation prompt opens an assistant turn.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")

_BUILTIN_TEXT = """\
teacher: what is 52 minus 27?
student: um 35?
teacher: can you show me how you got that?
student: 7 take away 2 is 5 and 5 take away 2 is 3
teacher: let's use base ten blocks. how many tens and ones are in 52?
student: 5 tens and 2 ones
teacher: can you take 7 ones away from 2 ones?
student: no. you cant
teacher: what could we do with one of the tens?
student: brake it? into 10 ones?
teacher: yes! now how many ones do we have?
student: 12 ones. 12 take away 7 is 5
teacher: great thinking. what about the tens now?
student: 4 tens take away 2 tens is 2 tens. so 25?
teacher: how do you feel about math today?
student: ok i guess. im bad at subtraction
teacher: do you like horses?
student: yes! i ride a pony called pepper on saturdays
teacher: which number is bigger, 38 or 83?
student: 83 becuz it has 8 tens
"""


def training_text() -> str:
    """A few KB of text for the tokenizer: the shipped personas if present, else built-in."""
    parts = [path.read_text(encoding="utf-8") for path in sorted(SHIPPED_PERSONAS.glob("*.yaml"))]
    text = "\n".join(parts)
    return text if len(text) >= 1000 else text + "\n" + _BUILTIN_TEXT * 4


def build_tokenizer(out_dir: Path, *, vocab_size: int = 600, text: str | None = None):
    """Train a byte-level BPE tokenizer, wrap it with a chat template, save it to ``out_dir``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = (text or training_text()).splitlines()
    raw.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS),
        model_max_length=512,
        chat_template=CHAT_TEMPLATE,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    return tokenizer


def build_tiny_model(out_dir: Path, *, seed: int = 0, context: int = 512) -> Path:
    """Save a random tiny Llama (hidden 128, 2 heads of 64, 1 KV head, 2 layers) with its tokenizer,
    ``context`` positions long.

    Returns ``out_dir``, a folder that ``from_pretrained`` and vLLM load offline.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out_dir = Path(out_dir)
    tokenizer = build_tokenizer(out_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=64,
        max_position_embeddings=context,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(torch.float32)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out_dir)
    return out_dir


def make_lora_adapter(
    base_dir: Path,
    out_dir: Path,
    seed: int,
    *,
    rank: int = 8,
    alpha: int = 16,
    target_modules: Sequence[str] = TARGET_MODULES,
    modules_to_save: Sequence[str] | None = None,
    scale: float = 0.05,
) -> Path:
    """Write a LoRA adapter for ``base_dir`` whose weights depend on ``seed``.

    PEFT starts ``lora_B`` at zero (the adapter would change nothing), so B is filled from a
    seeded normal distribution: two seeds give two adapters that differ and both change the
    model. With the defaults (r=8, q/k/v/o_proj, no ``modules_to_save``, no new tokens) vLLM loads
    the result; pass ``rank=16`` or ``modules_to_save=["lm_head"]`` to get one it refuses.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        target_modules=list(target_modules),
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
        modules_to_save=list(modules_to_save) if modules_to_save else None,
    )
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    out_dir = Path(out_dir)
    peft_model.save_pretrained(out_dir)
    return out_dir
