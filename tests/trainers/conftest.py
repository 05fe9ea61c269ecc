"""Fixtures for the trainer tests: the `[trainers]` extra, a tiny random Llama and a WordLevel tokenizer.

Without trl / torch / transformers / datasets these tests skip, unless FTSTUDIO_REQUIRE_TRAINERS=1
(set by .ci/run), where their absence is a failure. Nothing is downloaded: the model and tokenizer are
built from the test data and saved with save_pretrained to a temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from trainer_util import OFFLINE

TRAINER_PACKAGES = ("trl", "torch", "transformers", "datasets", "tokenizers")

# Sentences the tokenizer learns its vocabulary from; the test data is made of them.
SENTENCES = [
    "what is two plus two ?", "two plus two is four .", "what is the capital of france ?",
    "the capital of france is paris .", "say hello to the user .", "hello , how can i help you today ?",
    "no , that is wrong .", "yes , that is right .", "the answer is four .", "the answer is five .",
    "you are a helpful assistant .", "four", "paris", "hello", "yes",
]
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
# The prompt rendered with add_generation_prompt is a prefix of prompt + answer, as TRL needs;
# {% generation %} marks assistant turns for assistant_only_loss.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'assistant' %}"
    "<|assistant|> {% generation %}{{ message['content'] }} <|end|>{% endgeneration %} "
    "{% else %}<|{{ message['role'] }}|> {{ message['content'] }} <|end|> {% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def require_trainers() -> None:
    missing = [p for p in TRAINER_PACKAGES if importlib.util.find_spec(p) is None]
    if missing:
        message = f"the [trainers] extra is missing ({', '.join(missing)}): pip install -e '.[trainers]'"
        if os.environ.get("FTSTUDIO_REQUIRE_TRAINERS") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A folder holding a random 2-layer Llama (hidden size 32) and its WordLevel tokenizer."""
    require_trainers()
    for k, v in OFFLINE.items():
        os.environ.setdefault(k, v)
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny_model")
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=SPECIALS, min_frequency=1))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="<|end|>", unk_token="<unk>",
                                   pad_token="<pad>",
                                   additional_special_tokens=["</s>", "<|system|>", "<|user|>", "<|assistant|>"])
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(path)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    for key in ("pad_token_id", "eos_token_id", "bos_token_id"):
        setattr(model.generation_config, key, getattr(fast, key))
    model.save_pretrained(path)
    return path
