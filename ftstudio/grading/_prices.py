"""What model-grader requests cost: USD per 1M tokens, for the estimate shown before anything is sent.

Standard-tier list prices from openai.com/api/pricing (2025). A model not in the table is priced at the
most expensive entry, so an estimate (and `--max-cost`) errs on the side of spending less; the user can
pass their own prices (`--input-price`, `--output-price`). Completion tokens are not known before the call:
a grader answer (a JSON result with its steps) is assumed to be ASSUMED_COMPLETION_TOKENS long.
"""

from __future__ import annotations

from dataclasses import dataclass

# model prefix -> (input, output) USD per 1M tokens; the longest matching prefix wins.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o1": (15.00, 60.00),
}
ASSUMED_COMPLETION_TOKENS = 300


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    listed: bool  # False: the model isn't in the table and the dearest entry stands in


def price_of(model: str, input_price: float | None = None, output_price: float | None = None) -> Price:
    """The price of one model: the user's figures when given, else the table's."""
    match = max((p for p in PRICES if model.startswith(p)), key=len, default=None)
    dearest = max(PRICES.values(), key=lambda v: v[0] + v[1])
    base = PRICES[match] if match else dearest
    return Price(base[0] if input_price is None else input_price, base[1] if output_price is None else output_price,
                 match is not None or (input_price is not None and output_price is not None))
