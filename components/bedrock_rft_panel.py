"""The Hyperparameters page's view of Bedrock's native RFT job when the target is bedrock-rft.

The names and bounds come from one table (ftstudio.targets.RFT_HYPERPARAMETERS, botocore's
RFTHyperParameters); the values are what `ftstudio export --format bedrock-rft` would send for this
config, and what it drops is listed with the reason.
"""

from __future__ import annotations

import streamlit as st

from ftstudio.targets import RFT_HYPERPARAMETERS, bedrock_rft_hyperparameters


def render(config) -> None:
    sent, changes = bedrock_rft_hyperparameters(config.model_dump(mode="json", exclude_none=True))
    st.subheader("Bedrock RFT hyperparameters")
    st.caption("Target bedrock-rft: Bedrock's CreateModelCustomizationJob takes these under "
               "customizationConfig.rftConfig.hyperParameters. Unset ones take Bedrock's defaults.")
    st.table([{"Bedrock name": h.name, "allowed": h.describe(), "from this config": sent.get(h.name, "—"),
               "meaning": h.help} for h in RFT_HYPERPARAMETERS])
    for change in changes:
        (st.warning if change.lost else st.caption)(f"{change.path}: {change.message}"
                                                    + (f" ({change.hint})" if change.hint else ""))
