import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftstudio.cli import main

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "presets").glob("*.json"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def test_validate_presets_exit_zero(capsys):
    code, out, err = run(capsys, "validate", *map(str, PRESETS))
    assert code == 0, out
    assert "0 error(s)" in err


def test_validate_broken_config_names_the_path(tmp_path, capsys):
    cfg = json.loads(PRESETS[0].read_text())["config"]
    cfg["method"] = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 99}}}
    code, out, _ = run(capsys, "validate", write(tmp_path, "c.json", cfg))
    assert code == 1
    assert out.startswith("ERROR method.supervised.hyperparameters.n_epochs: n_epochs must be")


def test_validate_bare_grader_and_json(tmp_path, capsys):
    grader = {"type": "multi", "name": "m", "calculate_output": "a + b", "graders": {
        "a": {"type": "string_check", "name": "a", "input": "{{ sample.output_text }}", "reference": "x", "operation": "eq"}}}
    code, out, _ = run(capsys, "validate", "--json", write(tmp_path, "g.json", grader))
    assert code == 1
    records = json.loads(out)
    assert records[0] == {"path": "calculate_output", "severity": "error", "code": "formula_unknown_variable",
                          "message": "'b' at position 4 is not a grader key",
                          "hint": "grader keys: a; the formula uses keys, not grader names", "blocks_grading": True,
                          "file": str(tmp_path / "g.json")}
    warn = dict(grader, calculate_output="a")
    del warn["graders"]["a"]["reference"]
    code, out, _ = run(capsys, "validate", write(tmp_path, "w.json", warn))
    assert code == 1 and "graders.a.reference: missing required field 'reference'" in out


@pytest.mark.parametrize("kind", ["template", "node"])
def test_grade_with_an_unknown_grader_type_exits_one_naming_it(tmp_path, capsys, kind):
    grader = {"type": "multi", "name": "m", "calculate_output": "a", "graders": {"a": {"type": kind, "name": "a"}}}
    data = write(tmp_path, "d.jsonl", '{"item": {}, "model_sample": "x"}\n')
    code, out, err = run(capsys, "grade", write(tmp_path, "g.json", grader), data)
    assert code == 1 and out == ""
    assert f"graders.a: unknown grader type '{kind}'; one of string_check, text_similarity," in err
    assert "Traceback" not in err and "pydantic" not in err


def test_warnings_only_exit_zero(tmp_path, capsys):
    grader = {"type": "string_check", "name": "a", "input": "{{ item.x }}", "reference": "x", "operation": "eq"}
    code, out, _ = run(capsys, "validate", write(tmp_path, "g.json", grader))
    assert code == 0 and out.startswith("WARNING input:")


def test_validate_unreadable_exit_two(tmp_path, capsys):
    code, _, err = run(capsys, "validate", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err
    code, _, err = run(capsys, "validate", write(tmp_path, "bad.json", '{"model": "x",\n  oops}'))
    assert code == 2 and "line 2" in err
    code, _, _ = run(capsys, "validate", str(PRESETS[0]), write(tmp_path, "bad2.json", "[1,"))
    assert code == 2


@pytest.mark.parametrize("fmt,needle", [("json", '"training_file"'), ("python", "client.fine_tuning.jobs.create("),
                                        ("curl", "Authorization: Bearer $OPENAI_API_KEY")])
def test_export_formats(tmp_path, capsys, fmt, needle):
    code, out, _ = run(capsys, "export", str(PRESETS[0]), "--format", fmt)
    assert code == 0 and needle in out
    target = tmp_path / f"out.{fmt}"
    code, _, _ = run(capsys, "export", str(PRESETS[0]), "--format", fmt, "-o", str(target))
    assert code == 0 and target.read_text() == out


def test_export_refuses_errors_unless_forced(tmp_path, capsys):
    cfg = json.loads((ROOT / "presets" / "rft-summarization.json").read_text())["config"]
    g = cfg["method"]["reinforcement"]["grader"]
    g["graders"]["overlap"] = {"type": "multi", "name": "o", "calculate_output": "x", "graders": {"x": g["graders"]["overlap"]}}
    path = write(tmp_path, "nested.json", cfg)
    code, out, err = run(capsys, "export", path)
    assert code == 1 and out == "" and "multi_nested" not in err and "inside a multi" in err
    code, out, err = run(capsys, "export", path, "--force")
    assert code == 0 and json.loads(out)["model"] == cfg["model"] and "exported anyway" in err
    code, out, _ = run(capsys, "flatten", path)
    flat = json.loads(out)["method"]["reinforcement"]["grader"]
    assert code == 0 and list(flat["graders"]) == ["overlap__x", "judge"]
    assert flat["calculate_output"] == "0.4 * overlap__x + 0.6 * judge"
    code, _, _ = run(capsys, "validate", write(tmp_path, "flat.json", json.loads(out)))
    assert code == 0


def test_export_invalid_model(tmp_path, capsys):
    code, _, err = run(capsys, "export", write(tmp_path, "x.json", {"model": "m"}))
    assert code == 1 and "training_file" in err


def test_schema(capsys):
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "JobConfig" and "method" in schema["properties"]
    code, out, _ = run(capsys, "schema", "--grader")
    assert code == 0 and "discriminator" in out


@pytest.mark.slow
def test_console_script_and_module():
    out = subprocess.run(["ftstudio", "validate", str(PRESETS[0])], capture_output=True, text=True)
    assert out.returncode == 0
    out = subprocess.run([sys.executable, "-m", "ftstudio", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "validate" in out.stdout



def test_each_command_module_registers_its_commands_of_the_table_in_order():
    """`ftstudio --help` lists every command from cli._commands without importing its module: a module's own
    registration must add exactly the commands the table gives it, in the table's order, with the table's help."""
    import argparse
    import importlib

    from ftstudio.cli._commands import COMMANDS
    from ftstudio.cli._main import Listed, Parser, build_parser, invoked

    for module in dict.fromkeys(m for m, _ in COMMANDS.values()):
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"ftstudio.cli.{module}").register(sub)
        assert list(sub.choices) == [name for name, (m, _) in COMMANDS.items() if m == module]
        assert [a.help for a in sub._choices_actions] == [COMMANDS[name][1] for name in sub.choices]
    listing = build_parser().format_help()
    for command in COMMANDS:
        parser = build_parser(command)
        assert parser.format_help() == listing
        assert parser.parse_args([]).command is None
        assert invoked(["--version", command, "--help"]) == command
        # the invoked command's module builds real parsers; every other command is listed only (no parser made)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, (module, _) in COMMANDS.items():
            built = sub.choices[name]
            assert isinstance(built, Parser) == (module == COMMANDS[command][0]), (command, name)
            if isinstance(built, Listed):
                with pytest.raises(RuntimeError, match="its parser was not built"):
                    built.parse_known_args([])


def test_the_invoked_command_parses_its_own_arguments(capsys):
    """Only the named command's module builds its arguments; the others are listed, and an unknown one is an error
    naming every command in the table's order."""
    from ftstudio.cli._commands import COMMANDS

    code, out, _ = run(capsys, "export", str(PRESETS[0]), "--format", "curl")
    assert code == 0 and "curl" in out
    with pytest.raises(SystemExit):
        main(["bogus"])
    assert ", ".join(repr(c) for c in COMMANDS) in capsys.readouterr().err

def test_validate_dev_zero_stops_at_the_size_cap_with_a_clear_message():
    """/dev/zero never ends: the read stops after the cap instead of filling memory forever. (The address-space
    limit keeps a regression from taking the machine's memory with it: it would fail fast instead.)"""
    import resource

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    proc = subprocess.run([sys.executable, "-m", "ftstudio", "validate", "/dev/zero"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=limit_memory)
    assert proc.returncode == 2, proc.stderr
    assert "/dev/zero: more than 16 MB" in proc.stderr and "Traceback" not in proc.stderr


def test_a_config_over_the_cap_is_refused_and_stdin_is_bounded_too(tmp_path, capsys, monkeypatch):
    from ftstudio.config import MAX_DOCUMENT_BYTES, ImportProblem, read_json_file

    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_DOCUMENT_BYTES + 1)  # sparse: no disk used
    code, _, err = run(capsys, "validate", str(big))
    assert code == 2 and f"{big}: more than 16 MB" in err

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b" " * len(buffer)
            return len(buffer)

    with pytest.raises(ImportProblem, match="more than 16 MB"):
        read_json_file(io.BufferedReader(Endless()))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    code, _, err = run(capsys, "validate", "-")
    assert code == 2 and "-: more than 16 MB" in err
    exact = tmp_path / "spaces.json"
    exact.write_bytes(b" " * (MAX_DOCUMENT_BYTES - 2) + b"{}")  # at the cap: read whole
    assert read_json_file(exact) == {}


COUNT_FLAGS = [  # every count flag outside `serve`: a whole number of at least 1
    ("grade", ["--concurrency"]), ("probe", ["--concurrency", "--rows"]), ("compare", ["--rows"]),
    ("sample", ["--concurrency", "--n", "--max-tokens"]),
]


@pytest.mark.parametrize(("command", "flags"), COUNT_FLAGS)
@pytest.mark.parametrize("value", ["0", "-5", "two"])
def test_count_flags_refuse_zero_negative_and_words_naming_the_flag(tmp_path, capsys, command, flags, value):
    grader = write(tmp_path, "g.json", {"type": "string_check", "name": "g", "input": "{{ sample.output_text }}",
                                        "reference": "x", "operation": "eq"})
    data = write(tmp_path, "d.jsonl", '{"model_sample": "x"}\n')
    head = {"sample": [data, "--model", "m"]}.get(command, [grader, data])
    for flag in flags:
        with pytest.raises(SystemExit) as exit_:
            main([command, *head, flag, value])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        why = "expected a whole number, got 'two'" if value == "two" else f"must be at least 1, got {value}"
        assert f"argument {flag}: {why}" in err


@pytest.mark.parametrize("command", ["grade", "probe", "compare", "calibrate", "compare-graders"])
def test_an_empty_sample_field_is_refused_with_a_clear_message(tmp_path, capsys, command):
    grader = write(tmp_path, "g.json", {"type": "string_check", "name": "g", "input": "{{ sample.output_text }}",
                                        "reference": "x", "operation": "eq"})
    data = write(tmp_path, "d.jsonl", '{"model_sample": "x"}\n')
    graders = [grader, grader] if command == "compare-graders" else [grader]
    with pytest.raises(SystemExit) as exit_:
        main([command, *graders, data, "--sample-field", ""])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert 'argument --sample-field: the sample field is empty: name the row field that holds the model\'s answer' in err
