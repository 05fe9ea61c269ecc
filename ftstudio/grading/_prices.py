"""What model-grader requests cost: USD per 1M tokens, for the estimate shown before anything is sent.

Standard-tier list prices per model prefix. Each entry says where its price was confirmed and when, or that it
was not: the table was first written from memory (openai.com/api/pricing, 2025), and on 2026-12-07 a search of
the stored documentation found no copy of OpenAI's pricing page (developers.openai.com/api/docs/pricing,
platform.openai.com/docs/pricing, openai.com/api/pricing) nor of Azure's (azure.microsoft.com/.../openai-service)
giving these models' prices, only third-party tables. So every entry is unverified, and the estimate says so
("estimate; price unverified") for the models it priced with one. Put `source`/`checked` on an entry once its
price is read on the provider's own page.

A model not in the table is priced at the most expensive entry, so an estimate (and `--max-cost`) errs on the
side of spending less; the user can pass their own prices (`--input-price`, `--output-price`). Completion tokens
are not known before the call: a grader answer (a JSON result with its steps) is assumed to be
ASSUMED_COMPLETION_TOKENS long.
"""

from __future__ import annotations

from ftstudio.core.records import datarecord


@datarecord(frozen=True)
class ListPrice:
    input: float    # USD per 1M prompt tokens
    output: float   # USD per 1M completion tokens
    source: str | None = None   # the provider's page the price was read on; None: unverified
    checked: str | None = None  # the date it was read there (YYYY-MM-DD)
    note: str = ""              # what was found instead, when unverified

    @property
    def verified(self) -> bool:
        return self.source is not None and self.checked is not None


# Third-party tables seen on 2026-12-07 (not counted as verification): deploybase.ai/articles/openai-pricing
# ("OpenAI pricing page, March 2026") and deploybase.ai/articles/gpt-4.1-pricing list the gpt-4.1, gpt-4o and
# o-series figures below; tokenmath.io/openai-api-pricing-explained the gpt-4.1 / gpt-4.1-mini ones; a
# community.openai.com answer quotes o1 at 15/60; aimodelcalc.pages.dev gpt-4o, gpt-4o-mini, o1, o3-mini. One
# (studioglobal.ai) gives gpt-4.1 at half these prices, likely the Batch tier; another notes OpenAI's page no
# longer lists the gpt-4.x family.
_SEEN = "agrees with third-party tables seen 2026-12-07; not found on OpenAI's or Azure's pricing page"
# model prefix -> list price; the longest matching prefix wins.
PRICES: dict[str, ListPrice] = {
    "gpt-4.1-nano": ListPrice(0.10, 0.40, note=_SEEN),   # unverified
    "gpt-4.1-mini": ListPrice(0.40, 1.60, note=_SEEN),   # unverified
    "gpt-4.1": ListPrice(2.00, 8.00, note=_SEEN),        # unverified (one third-party table: 1.00 / 4.00)
    "gpt-4o-mini": ListPrice(0.15, 0.60, note=_SEEN),    # unverified
    "gpt-4o": ListPrice(2.50, 10.00, note=_SEEN),        # unverified
    "o4-mini": ListPrice(1.10, 4.40, note=_SEEN),        # unverified
    "o3-mini": ListPrice(1.10, 4.40, note=_SEEN),        # unverified
    "o3": ListPrice(2.00, 8.00, note=_SEEN),             # unverified (launched at 10.00 / 40.00, April 2025)
    "o1": ListPrice(15.00, 60.00, note=_SEEN),           # unverified
}
ASSUMED_COMPLETION_TOKENS = 300


@datarecord(frozen=True)
class Price:
    input: float
    output: float
    listed: bool  # False: the model isn't in the table and the dearest entry stands in
    verified: bool = False  # the price was confirmed on the provider's page (or given by the user)


def price_of(model: str, input_price: float | None = None, output_price: float | None = None) -> Price:
    """The price of one model: the user's figures when given, else the table's."""
    match = max((p for p in PRICES if model.startswith(p)), key=len, default=None)
    dearest = max(PRICES.values(), key=lambda v: v.input + v.output)
    base = PRICES[match] if match else dearest
    given = input_price is not None and output_price is not None
    return Price(base.input if input_price is None else input_price,
                 base.output if output_price is None else output_price,
                 match is not None or given, given or (match is not None and base.verified))
