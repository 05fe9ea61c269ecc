"""bedrock-rft: Amazon Bedrock's native reinforcement fine-tuning job (`_bedrock_rft.py` builds it).

The reward Lambda runs ftstudio's own engine over the grader tree as written (DIR/lambda/grader.json),
so every grader type translates, including ones added later (`every`); what changes is the job around
it (hyperparameters, base model, data), reported as rules with evidence.
"""

from __future__ import annotations

from ftstudio.graders import as_is

from ._target import Target

TARGET = Target(
    name="bedrock-rft", title="Amazon Bedrock RFT (reward Lambda)", order=60,
    about="Bedrock's CreateModelCustomizationJob with a reward Lambda", job_body=False, every=as_is,
)
