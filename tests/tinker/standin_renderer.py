"""A stand-in for a tinker-cookbook renderer (a real one loads a Hugging Face tokenizer, which needs a
download): tokens are the UTF-8 bytes of the text. It has the three methods an env and the rollout loop call."""

from __future__ import annotations

import tinker
from tinker_cookbook.renderers import ParseTermination

STOP = "\n\nUser:"


def encode(text: str) -> list[int]:
    return list(text.encode("utf-8"))


class StandInRenderer:
    def build_generation_prompt(self, messages, role: str = "assistant", prefill: str | None = None):
        text = "".join(f"{m['role']}: {m['content']}\n\n" for m in messages) + f"{role}:"
        return tinker.ModelInput.from_ints(encode(text))

    def get_stop_sequences(self) -> list[str]:
        return [STOP]

    def parse_response(self, response: list[int]):
        text = bytes(response).decode("utf-8", errors="replace")
        return {"role": "assistant", "content": text}, ParseTermination.STOP_SEQUENCE
