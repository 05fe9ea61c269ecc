"""config.as_written: an export in the spelling of the document it was imported from."""

import json

from ftstudio.config import as_written, to_data
from ftstudio.validation import from_json_keeping, restore_kept

DOC = {
    "suffix": None,
    "model": "gpt-4.1-mini-2025-04-14",
    "training_file": "file-a",
    "validation_file": None,
    "method": {"type": "reinforcement", "reinforcement": {
        "hyperparameters": {"n_epochs": 5, "learning_rate_multiplier": 2, "eval_interval": "auto"},
        "grader": {"type": "score_model", "name": "judge", "model": "o3-mini", "range": [0, 5],
                   "input": [{"role": "user", "content": "{{ sample.output_text }}"}]}}},
    "seed": 7,
}


def export_after_import(doc):
    cfg, kept = from_json_keeping(json.loads(json.dumps(doc)))
    return as_written(restore_kept(to_data(cfg), kept), doc), cfg


def test_an_untouched_import_exports_byte_identical():
    out, cfg = export_after_import(DOC)
    assert json.dumps(out) == json.dumps(DOC)
    # while the typed config itself holds floats and no nulls
    assert cfg.method.reinforcement.grader.range == [0.0, 5.0]


def test_numbers_keep_their_form_only_while_they_mean_the_same():
    data = {"a": 5.0, "b": 2.5, "c": [0.0, 5.0], "d": True, "e": 1}
    written = {"a": 5, "b": 2, "c": [0, 5], "d": 1, "e": True}
    out = as_written(data, written)
    assert out == {"a": 5, "b": 2.5, "c": [0, 5], "d": True, "e": 1}
    assert type(out["a"]) is int and type(out["d"]) is bool and type(out["e"]) is int


def test_key_order_is_the_users_and_new_keys_follow():
    out = as_written({"model": "m", "training_file": "f", "seed": 1}, {"seed": 2, "model": "m"})
    assert list(out) == ["seed", "model", "training_file"] and out["seed"] == 1


def test_explicit_nulls_stay_until_the_field_gets_a_value():
    assert as_written({"model": "m"}, {"suffix": None, "model": "m"}) == {"suffix": None, "model": "m"}
    assert as_written({"model": "m", "suffix": "x"}, {"suffix": None, "model": "m"}) == {"suffix": "x", "model": "m"}


def test_a_null_hyperparameter_stays_null_until_it_gets_a_value():
    doc = {"model": "m", "training_file": "file-a", "method": {"type": "dpo", "dpo": {"hyperparameters": {
        "beta": None, "n_epochs": None, "batch_size": 4}}}}
    out, cfg = export_after_import(doc)
    assert cfg.method.dpo.hyperparameters.n_epochs == "auto" and cfg.method.dpo.hyperparameters.beta == "auto"
    assert json.dumps(out) == json.dumps(doc)
    hp = cfg.method.dpo.hyperparameters.model_copy(update={"n_epochs": 3})
    edited = cfg.model_copy(update={"method": cfg.method.model_copy(update={
        "dpo": cfg.method.dpo.model_copy(update={"hyperparameters": hp})})})
    assert as_written(to_data(edited), doc)["method"]["dpo"]["hyperparameters"] == {
        "beta": None, "n_epochs": 3, "batch_size": 4}


def test_values_removed_in_the_editor_stay_removed():
    assert as_written({"model": "m"}, {"model": "m", "seed": 3}) == {"model": "m"}


def test_lists_that_changed_length_are_the_edits():
    assert as_written({"r": [0.0, 5.0, 7.0]}, {"r": [0, 5]}) == {"r": [0.0, 5.0, 7.0]}


def test_an_edit_after_import_keeps_the_rest_as_written():
    out, cfg = export_after_import(DOC)
    hp = cfg.method.reinforcement.hyperparameters.model_copy(update={"n_epochs": 3})
    rf = cfg.method.reinforcement.model_copy(update={"hyperparameters": hp})
    edited = cfg.model_copy(update={"method": cfg.method.model_copy(update={"reinforcement": rf})})
    out = as_written(to_data(edited), DOC)
    assert out["method"]["reinforcement"]["hyperparameters"] == {
        "n_epochs": 3, "learning_rate_multiplier": 2, "eval_interval": "auto"}
    assert out["method"]["reinforcement"]["grader"]["range"] == [0, 5]
    assert list(out)[:1] == ["suffix"] and out["validation_file"] is None


def test_every_corpus_document_round_trips_through_the_typed_config():
    """What the app does: import into the typed config, export in the user's spelling, byte for byte."""
    import pytest
    from test_corpus import CONFIGS

    from ftstudio.config import read_document
    from ftstudio.validation import grader_from_json

    if not CONFIGS.is_dir():
        pytest.skip(f"the conformance corpus is not at {CONFIGS}")
    checked = 0
    for path in sorted(CONFIGS.glob("*.json")):
        try:
            doc = read_document(json.loads(path.read_text(encoding="utf-8")))
            if doc.kind == "config":
                cfg, kept = from_json_keeping(doc.data)
                data = restore_kept(to_data(cfg), kept)
            else:
                data = to_data(grader_from_json(doc.data))
        except Exception:  # noqa: BLE001 - documents the model can't hold are test_corpus's business
            continue
        assert json.dumps(as_written(data, doc.data)) == json.dumps(to_data(doc.data)), path.name
        checked += 1
    assert checked >= 80
