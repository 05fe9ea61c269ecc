"""The job config: JobConfig, methods, hyperparameter specs, the model catalog, JSON Schema and the JSON / Python / curl codecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftstudio.core import LazyFace

if TYPE_CHECKING:
    from . import _catalog as catalog
    from ._as_written import as_written
    from ._codecs import (
        MAX_DOCUMENT_BYTES,
        REDACTED,
        SDK_MULTI_NOTE,
        SDK_MULTI_WORKAROUND,
        Document,
        ImportProblem,
        NoGrader,
        exportable,
        grader_of,
        grader_to_python,
        is_grader_data,
        multi_map_path,
        parse_json,
        read_document,
        read_json_file,
        to_curl,
        to_data,
        to_json,
        to_python,
    )
    from ._flatten import flatten, flatten_config, is_nested
    from ._hyperparameters import (
        AUTO,
        HYPERPARAMETER_MODELS,
        DpoHyperparameters,
        HyperParam,
        ReinforcementHyperparameters,
        SupervisedHyperparameters,
        methods_taking,
        spec_by_name,
        specs,
    )
    from ._job import (
        MAX_METADATA_KEY,
        MAX_METADATA_PAIRS,
        MAX_METADATA_VALUE,
        MAX_SEED,
        MAX_SUFFIX,
        METHODS,
        Integration,
        JobConfig,
        WandbIntegrationSettings,
        method_block,
        new_config,
        switch_method,
        with_reinforcement,
    )
    from ._schema import grader_schema, job_config_schema

# Each name is imported from its module when first used, so a command pays only for what it uses (issue 23, start-up).
_FACE = LazyFace(__name__, {
    "_as_written": ("as_written",),
    "_codecs": ("MAX_DOCUMENT_BYTES", "REDACTED", "SDK_MULTI_NOTE", "SDK_MULTI_WORKAROUND", "Document",
                "ImportProblem", "NoGrader", "exportable", "grader_of", "grader_to_python", "is_grader_data",
                "multi_map_path", "parse_json", "read_document", "read_json_file", "to_curl", "to_data", "to_json",
                "to_python"),
    "_flatten": ("flatten", "flatten_config", "is_nested"),
    "_hyperparameters": ("AUTO", "HYPERPARAMETER_MODELS", "DpoHyperparameters", "HyperParam",
                         "ReinforcementHyperparameters", "SupervisedHyperparameters", "methods_taking",
                         "spec_by_name", "specs"),
    "_job": ("MAX_METADATA_KEY", "MAX_METADATA_PAIRS", "MAX_METADATA_VALUE", "MAX_SEED", "MAX_SUFFIX", "METHODS",
             "Integration", "JobConfig", "WandbIntegrationSettings", "method_block", "new_config", "switch_method",
             "with_reinforcement"),
    "_schema": ("grader_schema", "job_config_schema"),
}, {"catalog": "_catalog"})


def __getattr__(name: str) -> object:
    return _FACE.get(name, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = ['AUTO', 'MAX_DOCUMENT_BYTES', 'read_json_file', 'as_written', 'Document', 'DpoHyperparameters', 'HYPERPARAMETER_MODELS', 'HyperParam', 'ImportProblem', 'Integration', 'NoGrader', 'JobConfig', 'MAX_METADATA_KEY', 'MAX_METADATA_PAIRS', 'MAX_METADATA_VALUE', 'MAX_SEED', 'MAX_SUFFIX', 'METHODS', 'REDACTED', 'ReinforcementHyperparameters', 'SDK_MULTI_NOTE', 'SDK_MULTI_WORKAROUND', 'SupervisedHyperparameters', 'WandbIntegrationSettings', 'catalog', 'exportable', 'flatten', 'flatten_config', 'grader_of', 'grader_schema', 'grader_to_python', 'is_grader_data', 'is_nested', 'job_config_schema', 'method_block', 'methods_taking', 'multi_map_path', 'new_config', 'parse_json', 'read_document', 'spec_by_name', 'specs', 'switch_method', 'to_curl', 'to_data', 'to_json', 'to_python', 'with_reinforcement']
