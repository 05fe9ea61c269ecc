"""The rules registry: every validation rule, its severity per provider target, and its evidence.

This is the single source of severities. Checks emit an Issue with the rule's id as its code;
`resolve(issues, target)` sets each issue's severity from here (or drops it where the rule does
not apply to the target). ERROR only where the target is documented or observed to reject the
thing, or where our engine can't evaluate it; where sources disagree the rule is a WARNING and
cites both. The README's "Choices" section is checked against this table by a test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ftstudio.core import Evidence, Issue, Rule, Severity, records
from ftstudio.targets import DEFAULT_TARGET, declared_rules, is_target, target_names, targets


def _all(sev: str | None) -> dict:
    return dict.fromkeys(target_names(), sev)


def _api(sev: str | None) -> dict:
    """A rule about OpenAI's job body: it doesn't apply where the tree goes without that body (openai, azure,
    bedrock and compatible take it; gemini's reward config and bedrock-rft's job with a reward Lambda don't)."""
    return {t.name: (sev if t.job_body else None) for t in targets()}


def _sev(openai=None, azure=None, bedrock=None, compatible=None, gemini=None, bedrock_rft=None) -> dict:
    return {"openai": openai, "azure": azure, "bedrock": bedrock, "compatible": compatible, "gemini": gemini,
            "bedrock-rft": bedrock_rft}


def _ev(kind: str, source: str, quote: str = "") -> Evidence:
    return Evidence(kind, source, quote)


_OURS = (_ev("none-our-reading", "OURS"),)
# The OpenAI-compatible Bedrock jobs API (target bedrock) is in no botocore service model: its rules rest on
# AWS's docs page and blog only, and say so.
_NOT_IN_BOTOCORE = _ev("none-our-reading", "BR-BOTOCORE", "no bedrock* service model of botocore 1.44.18 has a "
                       "fine_tuning request URI: the OpenAI-compatible jobs API is documented, not modelled")
_ENGINE = (_ev("none-our-reading", "OURS", "the local engine cannot evaluate it"),)
_SPEC = (_ev("spec", "OAI-SPEC"), _ev("spec", "AZ-SPEC"))


def _r(id: str, severity: dict, evidence: tuple, message: str, family: bool = False) -> Rule:
    return Rule(id, severity, evidence, message, family)


def _static() -> tuple[Rule, ...]:
    """Our rules, built on first need: their severities name every target, which loads every target's module
    (issue 23: grading a clean tree for one target never looks a rule up)."""
    if not _STATIC:
        _STATIC.append(_ours())  # two threads may both build it: either table is the same
    return _STATIC[0]


_STATIC: list[tuple[Rule, ...]] = []


def _ours() -> tuple[Rule, ...]:
    return (
        # --- pinned (issue 10 §2) -----------------------------------------------------------
        _r("pass_threshold_ignored", _all("warning"), (
            _ev("observed", "COOKBOOK-RFT", "score_model with pass_threshold 0.75: \"Grader validated\", then trained"),
            _ev("observed", "AZ-COUNTDOWN", "job with pass_threshold 5 submitted: ftjob-861fd63f..."),
            _ev("docs-example", "AZ-RFT", "score_model and text_similarity specs print pass_threshold"),
            _ev("docs-example", "AZ-AGENTIC", "demo deletes it from multi children: \"currently cannot be used with "
                "multi-grader\"")),
           "the fine-tuning service accepts and ignores pass_threshold (it matters only to evals)"),
        _r("grader_name_missing", _api("warning"), (
            _ev("spec", "OAI-SPEC", "name is required on every grader"),
            _ev("observed", "OAI-GUIDE", "python grader without name: \"Here's a working example\", validated and run"),
            _ev("observed", "COOKBOOK-RFT", "the trained multi grader has no name")),
           "a grader without name: the SDK types require it, the API has validated and trained such graders"),
        _r("sampling_reasoning_model", _sev("warning", "warning", None, "info"), (
            _ev("observed", "OAI-SPEC", "/graders/run example: gpt-5-mini with temperature 1, top_p 1 -> reward 1.0"),),
           "temperature or top_p other than the default 1 on a reasoning grader model"),
        _r("response_format_flat", _api("warning"), (
            _ev("docs-example", "AZ-RFT", "prints {\"type\":\"json_schema\",\"name\",\"schema\",\"strict\"} flat"),
            _ev("spec", "AZ-SPEC", "response_format is ResponseFormatJSONSchemaRequest {type, json_schema} (nested)")),
           "response_format in the flat form; Chat Completions and Azure's REST spec nest it under json_schema"),
        _r("response_format_type", _sev("error", "error", "warning", "warning"), (
            _ev("spec", "AZ-SPEC", "response_format.type enum: [json_schema]"),
            _ev("docs-example", "OAI-RFT", "response_format {type: json_schema, json_schema: {...}}")),
           "response_format.type must be json_schema"),
        _r("response_format_shape", _sev("error", "error", "warning", "warning"), (
            _ev("spec", "AZ-SPEC", "json_schema object with name and schema required; strict boolean"),),
           "response_format.json_schema needs name and schema (strict optional, a boolean)"),
        _r("response_format_schema_invalid", _sev("error", "error", "warning", "warning"), (
            _ev("spec", "AZ-SPEC", "json_schema.schema is a JSON Schema"),
            _ev("none-our-reading", "OURS", "checked against the JSON Schema meta-schema with the jsonschema library")),
           "response_format's schema is not a valid JSON Schema"),
        _r("response_format_untyped", _sev("info", None, None, None), (
            _ev("sdk", "OAI-SDK", "ReinforcementMethod has no response_format"),
            _ev("docs-example", "OAI-RFT", "the RFT guide passes response_format")),
           "response_format is in the RFT guide but not in OpenAI's SDK types"),
        _r("model_unknown", _api("info"), _OURS,
           "unknown model: not in the target's model table; model-dependent checks are skipped or use its family"),
        _r("grader_model_unlisted", _sev("info", "warning", None, None), (
            _ev("docs-example", "AZ-RFT", "\"The following models can be used as model graders\": gpt-4o-2024-08-06, "
                "o3-mini-2025-01-31"),
            _ev("observed", "AZ-COUNTDOWN", "the submitted job's score_model grader used \"o3-mini\""),
            _ev("docs-example", "OAI-GUIDE", "lists gpt-4o, gpt-4.1, o1, o3, o3-mini and o4-mini snapshots as grader models"),
            _ev("observed", "OAI-SPEC", "/graders/run example grades with gpt-5-mini, which the guide doesn't list")),
           "a known model the target's docs don't list as a grader model (Azure: a warning; OpenAI has run "
           "graders on models beyond its list, so only a note)"),
        _r("model_placeholder", _all("warning"), (
            _ev("docs-example", "AZ-RFT", "\"model\": \"<SUPPORTED_GRADER_MODEL_ID>\""),
            _ev("docs-example", "OURS", "Azure SDK sample \"{{aoai_deployment_and_model}}\"")),
           "a placeholder such as <MODEL_ID> or {{...}} that must be replaced"),
        _r("schema_unknown_field", _sev("error", "error", "warning", "warning"), (
            _ev("observed", "OURS", "OpenAI/Azure answer 400 \"Unrecognized request argument supplied\""),
            _ev("spec", "OAI-SPEC", "additionalProperties: false on the request and grader objects")),
           "unknown field (with \"did you mean\" when a known field is close)"),
        # --- provider targets (issue 10 §4) ---------------------------------------------------
        # A warning, not an error: the config is not wrong, the provider is gone. It must not block exports
        # (Azure and trainer exports reuse the same body) nor turn every saved config invalid on that day.
        _r("openai_jobs_closed", _sev("warning", None, None, None), (
            _ev("docs-example", "OAI-DEPR", "OpenAI stops accepting new fine-tuning jobs on 2027-01-06"),),
           "OpenAI no longer accepts new fine-tuning jobs: Azure OpenAI, Bedrock RFT and Gemini do (ftstudio migrate)"),
        _r("openai_jobs_closing", _sev("info", None, None, None), (
            _ev("docs-example", "OAI-DEPR", "OpenAI stops accepting new fine-tuning jobs on 2027-01-06"),),
           "OpenAI accepts new fine-tuning jobs only until 2027-01-06"),
        _r("endpoint_grader", _sev("error", "info", "error", "warning"), (
            _ev("docs-example", "AZ-AGENTIC", "\"type\": \"endpoint\" # enforced literal; \"name\" # optional"),
            _ev("observed", "AZ-AGENTIC", "endpoint demo created ftjob-QRLPhli5Hi1Yzoe1ODNRrnhH"),
            _ev("spec", "OAI-SPEC", "the grader union has no endpoint type")),
           "endpoint graders are an Azure Foundry preview; OpenAI and Bedrock don't take them"),
        _r("lambda_grader", _sev("error", "error", None, "warning"), (
            _ev("docs-example", "BR-CREATE", "\"grader\": {\"type\": \"lambda\", \"lambda\": {\"function\": "
                "\"arn:aws:lambda:...\"}}"),
            _ev("spec", "OAI-SPEC", "the grader union has no lambda type")),
           "lambda graders run only on Amazon Bedrock"),
        _r("lambda_arn", _all("error"), (
            _ev("spec", "BR-CREATE", "LambdaGraderConfig.lambdaArn: arn:aws:lambda:<region>:<account>:function:<name>"),),
           "the lambda function must be a Lambda function ARN"),
        _r("bedrock_grader_type", _sev(None, None, "warning", None), (
            _ev("docs-example", "BR-CREATE", "only lambda graders are documented for Bedrock"), _NOT_IN_BOTOCORE),
           "Bedrock documents only lambda graders; whether it takes this one is unknown"),
        _r("suffix_unsupported", _sev(None, None, "error", None), (
            _ev("docs-example", "BR-CREATE", "\"# Suffix field is not supported so commenting for now.\""), _NOT_IN_BOTOCORE),
           "Bedrock's OpenAI-compatible fine-tuning API does not support suffix"),
        _r("rft_tools", _sev("error", "info", "error", "warning"), (
            _ev("docs-example", "AZ-AGENTIC", "\"Add an extra `tools` parameter\" [{name, server_url, headers?}]"),),
           "method.reinforcement.tools (agentic RFT) is an Azure Foundry private preview"),
        _r("rft_tools_shape", _api("error"), (
            _ev("docs-example", "AZ-AGENTIC", "tools: [{\"name\", \"server_url\", \"headers\"?}]"),),
           "each tool needs a unique name and a server_url (https)"),
        _r("rft_max_episode_steps", _sev("error", "info", "error", "warning"), (
            _ev("docs-example", "AZ-AGENTIC", "max_episode_steps: 10, beside grader and tools"),),
           "method.reinforcement.max_episode_steps (agentic RFT) is an Azure Foundry private preview"),
        _r("dpo_l2_multiplier", _sev("error", "warning", "warning", "warning"), (
            _ev("docs-example", "AZ-DPO", "\"dpo\": {\"beta\": 0.1, \"l2_multiplier\": 0.1}"),
            _ev("spec", "AZ-SPEC", "FineTuneDPOHyperparameters: beta, batch_size, learning_rate_multiplier, n_epochs")),
           "l2_multiplier appears only in an Azure docs example, not in Azure's REST spec (unconfirmed)"),
        _r("prompt_loss_weight", _sev("error", "warning", "warning", "warning"), (
            _ev("docs-example", "AZ-DPO", "top-level \"prompt_loss_weight\": 0.1"),
            _ev("spec", "OAI-SPEC", "not in CreateFineTuningJobRequest (a legacy /v1/fine-tunes parameter)")),
           "prompt_loss_weight is a legacy parameter; Azure docs show it but no spec lists it"),
        _r("azure_training_type", _sev("error", None, "warning", "warning"), (
            _ev("docs-example", "AZ-MODELS", "\"trainingType\": \"globalstandard\" in the REST example"),),
           "trainingType is Azure-specific"),
        _r("dpo_flat_hyperparameter", _api("error"), (
            _ev("spec", "OAI-SPEC", "FineTuneDPOMethod has one property, hyperparameters"),
            _ev("spec", "AZ-SPEC", "OpenAI.FineTuneDPOMethod has one property, hyperparameters")),
           "DPO hyperparameters belong in method.dpo.hyperparameters"),
        _r("azure_rft_validation_file", _sev(None, "error", None, None), (
            _ev("docs-example", "AZ-RFT", "\"Both a training and a validation dataset must be provided.\""),),
           "Azure RFT needs a validation file"),
        _r("reinforcement_validation_file", _sev("warning", None, "info", "warning"), (
            _ev("docs-example", "OAI-RFT", "the RFT guide passes both a training and a validation file"),),
           "reinforcement fine-tuning needs a validation file in practice"),
        _r("template_stray_braces", _all("warning"), _OURS,
           "a template followed by stray braces: the service most likely keeps them as literal text"),
        _r("multi_invalid_grade", _sev("error", None, "warning", "warning"), (
            _ev("docs-example", "AZ-RFT-2025-05", "Multi Grader: {\"type\": \"multi\", \"graders\": dict[str, Grader], "
                "\"calculate_output\": string, \"invalid_grade\": float}"),
            _ev("docs-example", "AZ-QA-MULTI", "a Microsoft answer's multi grader sets \"invalid_grade\": 0.0: \"Provide an "
                "invalid_grade fallback for edge cases\""),
            _ev("none-our-reading", "OURS", "graded as the reward of a row whose sub-grader errors or whose "
                "calculate_output can't be evaluated (the docs give only its type); the row keeps its error flags"),
            _ev("spec", "OAI-SPEC", "GraderMulti has no invalid_grade (additionalProperties: false)")),
           "invalid_grade on a multi grader: Azure documents it; elsewhere it is an unknown field"),
        _r("multi_graders_sdk_types", _api("info"), (
            _ev("sdk", "OAI-SDK", "GraderMulti.graders is typed as one grader (a union), not a map"),
            _ev("spec", "OAI-SPEC", "GraderMulti.graders is an object keyed by the names calculate_output uses")),
           "the openai SDK's types take multi.graders as one grader while the API takes the map: send method in "
           "extra_body"),
        _r("multi_graders_list", _all("error"), (
            _ev("spec", "OAI-SPEC", "GraderMulti.graders is an object keyed by the names calculate_output uses"),),
           "multi graders must be an object keyed by the names used in calculate_output"),
        # --- gemini: what `export --format gemini` changes (issue 21 §1) -------------------------
        _r("gemini_reward_mapped", _sev(gemini="warning"), (
            _ev("sdk", "GENAI", "\"Reward output by Cloud Run reward function is clipped to be within `[-1, 1]`, i.e., "
                "`reward = max(min(reward, 1.0), -1.0)`\" (also said of the code-execution and string match scorers)"),),
           "the tree's rewards lie outside Gemini's [-1, 1]: the export maps them affinely onto it"),
        _r("gemini_range_assumed", _sev(gemini="warning"), (
            _ev("sdk", "GENAI", "every scorer's reward is clipped to [-1, 1]"),
            _ev("none-our-reading", "OURS", "a python or remote grader's range can't be read from the tree")),
           "a grader whose range the tree doesn't say (python, endpoint): [0, 1] is assumed"),
        _r("gemini_range_unbounded", _sev(gemini="warning"), (_ev("sdk", "GENAI", "rewards clipped to [-1, 1]"),),
           "calculate_output can leave any bounded range: Gemini clips the reward"),
        _r("gemini_cloud_run", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "ReinforcementTuningCloudRunRewardScorer: POST {example, response, metadata} -> "
                "{\"reward\": float}"),),
           "a grader Gemini's scorers can't express goes to the Cloud Run scorer (ftstudio serve's /gemini)"),
        _r("gemini_formula", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "\"total_reward = ( weight_a * reward_a + weight_b * reward_b + ... ) / (weight_a + "
                "weight_b + ...)\""),),
           "calculate_output is not a weighted average of the children: the whole tree goes to Cloud Run"),
        _r("gemini_composite_errors", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "the composite averages its single rewards"),
            _ev("none-our-reading", "OURS", "ftstudio scores a multi row 0 when a child fails")),
           "a row where one child fails: ftstudio scores the tree 0, Gemini averages the other children"),
        _r("gemini_string_match_input", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "string match evaluates the parsed response; JSON match takes first-level keys only"),),
           "a string_check that compares something other than the response: Cloud Run scorer"),
        _r("gemini_ilike", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "MatchOperation: REGEX_CONTAINS is GoogleSQL REGEXP_CONTAINS; PARTIAL_MATCH is a "
                "substring test"),),
           "ilike: REGEX_CONTAINS '(?i)' with the escaped literal (RE2 case folding), or Cloud Run"),
        _r("gemini_string_match_ne", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "MatchOperation has EXACT_MATCH, PARTIAL_MATCH, REGEX_CONTAINS (no 'not equal')"),),
           "ne: EXACT_MATCH with the correct and wrong rewards swapped"),
        _r("gemini_json_match", _sev(gemini="warning"), (
            _ev("sdk", "GENAI", "JsonMatchExpression: \"finding the value in the JSON response that matches the "
                "key_name in the first level\""),),
           "{{sample.output_json.KEY}}: JSON match; non-string values are compared as Gemini does (undocumented)"),
        _r("gemini_code_imports", _sev(gemini="warning"), (
            _ev("sdk", "GENAI", "the code-execution scorer \"runs in a Sandbox and has no internet access\""),),
           "a python grader imports packages Gemini's sandbox may not have"),
        _r("gemini_autorater", _sev(gemini="warning"), (
            _ev("sdk", "GENAI", "ReinforcementTuningAutoraterScorer: autorater_prompt with {{response}} and "
                "{{references.key}}; the parsed answer converted to a float or matched exactly"),),
           "a model grader as Gemini's autorater: one prompt, a tagged answer instead of structured JSON"),
        _r("gemini_autorater_unavailable", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "AutoraterConfig.autorater_model: a Vertex publisher model or tuned endpoint"),),
           "a model grader the autorater can't express (not a Gemini model, images, several passing labels): Cloud Run"),
        _r("gemini_autorater_model", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "autorater_model format projects/{project}/locations/{location}/publishers/{publisher}/"
                "models/{model}"),),
           "the autorater model needs your Vertex project and region"),
        _r("gemini_job_field", _sev(gemini="info"), (
            _ev("sdk", "GENAI", "CreateTuningJobConfig(method=\"REINFORCEMENT_TUNING\", epoch_count, learning_rate_multiplier, "
                "batch_size, samples_per_prompt, evaluate_interval, thinking_level, ...)"),),
           "a job setting that goes elsewhere on Gemini (or nowhere)"),
        # --- bedrock-rft: Bedrock's native RFT job (issue 21 §2) ----------------------------------
        _r("bedrock_rft_lambda", _sev(bedrock_rft="info"), (
            _ev("docs-example", "BR-REWARD", "\"your function must accept and return data in the following format\": "
                "input [{\"id\": \"123\", \"messages\": [..., {\"role\": \"assistant\", ...}], \"reference_answer\": "
                "{...}}]"),
            _ev("docs-example", "BR-RFT-LAMBDA", "Output structure [{\"id\": \"123\", \"aggregate_reward_score\": 0.85, "
                "\"metrics_list\": [{\"name\": \"accuracy\", \"value\": 0.9, \"type\": \"Reward\"}, {\"name\": "
                "\"policy_compliance\", \"value\": 0.8, \"type\": \"Metric\"}]}]; lambda_grader(samples: list[dict]) -> "
                "list[dict]"),
            _ev("spec", "BR-BOTOCORE", "RFTConfig.graderConfig is a union with one member, lambdaGrader {lambdaArn}")),
           "the tree runs in the reward Lambda; its event and response follow AWS's documentation"),
        _r("bedrock_rft_model_unlisted", _sev(bedrock_rft="warning"), (
            _ev("docs-example", "BR-RFT-NOVA", "reinforcement fine-tuning for Amazon Nova models (amazon.nova-2-lite-v1:0:256k)"),
            _ev("docs-example", "BR-REWARD", "reward functions for open-weight models")),
           "the config's model is not one Bedrock offers for reinforcement fine-tuning"),
        _r("bedrock_rft_hyperparameter", _sev(bedrock_rft="warning"), (
            _ev("spec", "BR-BOTOCORE", "RFTHyperParameters: epochCount 1..50, batchSize 16..512, learningRate 1e-7..1e-3, "
                "maxPromptLength, trainingSamplePerPrompt 2..16, inferenceMaxTokens, reasoningEffort low|medium|high, "
                "evalInterval 1..100"),),
           "a hyperparameter Bedrock's RFT job has no equivalent for (or outside its bounds): dropped"),
        _r("bedrock_rft_renamed", _sev(bedrock_rft="info"), (
            _ev("spec", "BR-BOTOCORE", "RFTHyperParameters member names"),),
           "a hyperparameter under Bedrock's name"),
        _r("bedrock_rft_job_field", _sev(bedrock_rft="info"), (
            _ev("spec", "BR-BOTOCORE", "CreateModelCustomizationJob request members"),),
           "a job field Bedrock's request names differently or has no place for"),
        _r("bedrock_rft_data", _sev(bedrock_rft="info"), (
            _ev("docs-example", "BR-REWARD", "rows {\"messages\", \"reference_answer\"}; the Lambda gets the row with the "
                "assistant turn appended"),),
           "Bedrock's training rows carry the grader's item as reference_answer"),
        _r("trl_mapping", _sev(), (
            _ev("none-our-reading", "OURS", "ftstudio.reward.MAPPING: OpenAI job settings -> trl 1.16 SFTConfig / DPOConfig / "
                "GRPOConfig, defaults read from the installed package"),),
           "`migrate --to trl`: how a job setting becomes a TRL setting (maps, approximately, no equivalent)"),
        # --- schema and engine ---------------------------------------------------------------
        _r("schema_", _all("error"), _SPEC, "the value does not fit the API's schema", family=True),
        _r("hyperparameter_range", _all("error"), _SPEC, "a hyperparameter outside its documented range"),
        _r("hyperparameter_foreign", _sev("error", "error", "warning", "warning"), _SPEC,
           "a hyperparameter of another method"),
        _r("multi_key_invalid", _all("error"), _ENGINE, "a multi key that is not a formula variable name"),
        _r("formula_", _all("error"), _ENGINE, "calculate_output does not parse", family=True),
        _r("formula_unknown_variable", _all("error"), _ENGINE, "calculate_output names a key that is not a grader"),
        _r("formula_unused_key", _all("warning"), _OURS, "a child grader the formula never uses"),
        _r("template_", _all("error"), _ENGINE, "a template that does not parse", family=True),
        _r("template_item_field_missing", _all("warning"), _OURS, "a template reads an item field the data lacks"),
        _r("python_", _all("error"), _ENGINE, "the python grader's source can't run", family=True),
        _r("python_image_tag", _api("warning"), (_ev("docs-example", "OAI-GUIDE", "image_tag 2025-05-08"),),
           "an undocumented python image_tag"),
        _r("json_value_invalid", _all("error"), _ENGINE, "a value JSON export can't write back"),
        _r("internal_error", _all("error"), _OURS, "validation failed unexpectedly"),
        _r("secret_in_config", _all("error"), _OURS, "a value that looks like an API key"),
        _r("model_empty", _api("error"), _SPEC, "the model is empty"),
        _r("training_file_empty", _api("error"), _SPEC, "training_file is empty"),
        _r("file_id_format", _sev("warning", "warning", "warning", "info"), _OURS, "a file id that is not file-..."),
        _r("validation_same_as_training", _api("warning"), _OURS, "validation_file is the training file"),
        _r("suffix_characters", _api("warning"), _OURS, "suffix characters outside letters, digits, . _ -"),
        _r("hyperparameters_deprecated", _api("warning"), (_ev("spec", "OAI-SPEC", "hyperparameters: deprecated"),),
           "top-level hyperparameters are deprecated"),
        _r("method_missing", _api("info"), _SPEC, "no method: supervised with the deprecated hyperparameters"),
        _r("method_block_mismatch", _all("error"), _OURS, "a method block that doesn't match method.type"),
        _r("reinforcement_missing", _all("error"), _SPEC, "reinforcement without a method.reinforcement block"),
        _r("model_fine_tuned", _api("info"), _OURS, "continues training from a fine-tuned model"),
        _r("model_retired", _sev("warning", "warning", "info", "info"), (_ev("docs-example", "OAI-DEPR"),),
           "the provider has shut the model down"),
        _r("model_retiring", _api("info"), (_ev("docs-example", "OAI-DEPR"),), "the model shuts down soon"),
        _r("method_model_unlisted", _sev("warning", "warning", "warning", "info"), (
            _ev("docs-example", "AZ-MODELS"), _ev("docs-example", "BR-BLOG")),
           "the target's docs don't list the model for this method"),
        _r("label_model_top_level", _sev("error", "error", "warning", "warning"), (
            _ev("spec", "OAI-SPEC", "the RFT grader union has no label_model"),),
           "label_model can't be the top-level reinforcement grader"),
        _r("label_model_in_multi", _api("info"), _SPEC, "label_model inside multi: undocumented for RFT"),
        _r("label_model_labels", _all("error"), _ENGINE, "labels is empty"),
        _r("label_model_labels_duplicate", _all("warning"), _OURS, "labels has duplicates"),
        _r("label_model_passing_not_subset", _all("error"), _SPEC, "passing_labels not in labels"),
        _r("label_model_no_passing", _all("warning"), _OURS, "passing_labels is empty"),
        _r("label_model_sampling_params", _api("warning"), (_ev("docs-example", "OAI-GUIDE"), _ev("sdk", "OAI-SDK")),
           "label_model sampling_params: in the guide, not in the SDK types"),
        _r("multi_nested", _sev("error", "error", "warning", "warning"), _SPEC, "a multi grader inside a multi grader"),
        _r("multi_empty", _all("error"), _ENGINE, "a multi grader without graders"),
        _r("multi_key_reserved", _all("error"), _ENGINE, "a multi key that is a formula function name"),
        _r("cosine_in_reinforcement", _sev("error", "error", None, "warning"), (
            _ev("docs-example", "OAI-GUIDE", "cosine is for evals"),
            _ev("docs-example", "AZ-RFT", "\"Use `cosine` for evaluations, not RFT.\"")),
           "cosine is documented for evals only"),
        _r("score_model_range", _all("error"), _ENGINE, "range needs low < high"),
        _r("model_grader_no_input", _all("error"), _ENGINE, "a model grader without messages"),
        _r("grader_ignores_sample", _all("warning"), _OURS, "the grader never reads the model's output"),
        _r("grader_name_empty", _api("warning"), _OURS, "an empty grader name"),
        _r("reasoning_effort_non_reasoning", _all("warning"), _OURS, "reasoning_effort on a non-reasoning model"),
        _r("reasoning_effort_unsupported", _sev("error", "error", "warning", "warning"), (_ev("docs-example", "OAI-GUIDE"),),
           "the model doesn't take that reasoning_effort"),
        _r("reasoning_effort_uncertain", _all("warning"), _OURS, "the table can't tell whether the effort is taken"),
        _r("output_json_without_response_format", _all("info"), (_ev("docs-example", "OAI-RFT"),),
           "output_json is filled only with a response_format"),
    )

# With the rules grader types and targets declare in their own modules (an Unavailable's rule, say): read on first
# need, since that loads every type's module (issue 23: grading one clean node never looks a rule up).
_WHOLE: list[tuple[tuple[Rule, ...], dict[str, Rule], list[Rule]]] = []  # rules, by id, families longest first


def _whole() -> tuple[tuple[Rule, ...], dict[str, Rule], list[Rule]]:
    if not _WHOLE:
        ours = _static()
        every = ours + tuple(r for r in declared_rules() if r.id not in {x.id for x in ours})
        _WHOLE.append((every, {r.id: r for r in every if not r.family},
                       sorted((r for r in every if r.family), key=lambda r: -len(r.id))))
    return _WHOLE[0]


if TYPE_CHECKING:  # read through __getattr__
    RULES: tuple[Rule, ...]
    TARGETS: tuple[str, ...]


def __getattr__(name: str) -> object:
    if name == "RULES":  # the whole registry: ours, then the declared ones
        return _whole()[0]
    if name == "TARGETS":
        return target_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def rule(code: str) -> Rule | None:
    """The rule of an issue code (exact id first, then the longest family prefix)."""
    _, by_id, families = _whole()
    found = by_id.get(code)
    if found is not None:
        return found
    return next((r for r in families if code.startswith(r.id)), None)


def issue(path: str, code: str, message: str, hint: str = "", blocks_grading: bool = False) -> Issue:
    """An Issue of rule `code` with the rule's severity; `resolve` then applies the target's.

    Checks never write a severity themselves: the registry is the only place one is decided.
    """
    found = rule(code)
    if found is None:
        raise KeyError(f"no rule {code!r} in the registry")
    sev = cast(Severity, found.severity_for(DEFAULT_TARGET) or next((s for s in found.severity.values() if s), "info"))
    return Issue(path=path, severity=sev, code=code, message=message, hint=hint, blocks_grading=blocks_grading)


def severity(code: str, target: str = DEFAULT_TARGET) -> str | None:
    found = rule(code)
    if found is None:
        raise KeyError(f"no rule {code!r} in the registry")
    return found.severity_for(target)


def check_target(target: str | None) -> str:
    t = (target or DEFAULT_TARGET).strip().lower()
    if not is_target(t):  # by name: the other targets' modules are not imported
        raise ValueError(f"unknown target {target!r}; use one of {', '.join(target_names())}")
    return t


def resolve(issues: list[Issue], target: str = DEFAULT_TARGET) -> list[Issue]:
    """Each issue with its rule's severity for `target`; issues of rules that don't apply are dropped.

    An issue whose code has no rule keeps the severity it was raised with (a test asserts every
    code the checks emit is registered, so this only guards against a crash in the UI).
    """
    out = []
    for issue in issues:
        found = rule(issue.code)
        if found is None:
            out.append(issue)
            continue
        sev = found.severity_for(target)
        if sev is None:
            continue
        out.append(issue if sev == issue.severity else records.replace(issue, severity=sev))
    return out


def rules_markdown() -> str:
    """The registry as the README's table (tests/test_rules.py keeps the README in step)."""
    names = target_names()
    lines = ["| rule | " + " | ".join(names) + " | evidence |", "|---|" + "---|" * len(names) + "---|"]
    for r in _whole()[0]:
        sev = " | ".join(r.severity_for(t) or "—" for t in names)
        ev = "; ".join(f"{e.kind} ({e.source})" for e in r.evidence)
        lines.append(f"| `{r.id}{'*' if r.family else ''}` | {sev} | {ev} |")
    return "\n".join(lines)
