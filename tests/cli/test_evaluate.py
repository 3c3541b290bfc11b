"""`localise models evaluate`: real CTranslate2 translation, scores equal sacrebleu's own CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from tests.conftest import SHARED

FLORES = SHARED / "eval" / "flores200-devtest"
SACREBLEU = Path(sys.executable).parent / "sacrebleu"


@pytest.fixture
def installed(models_dir, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("EVAL_DATA_DIR", str(FLORES))
    return models_dir


def evaluate(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["models", "evaluate", *args, "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def sacrebleu_cli(reference: Path, hypotheses: Path, *options: str) -> dict[str, float]:
    """Scores from sacrebleu's command line, 4 decimals, by metric name."""
    out = subprocess.run([str(SACREBLEU), str(reference), "-i", str(hypotheses), "-w", "4",
                          *options], check=True, capture_output=True, text=True).stdout
    parsed = json.loads(out)
    return {entry["name"]: float(entry["score"])
            for entry in (parsed if isinstance(parsed, list) else [parsed])}


def assert_matches_sacrebleu_cli(report: dict, reference: Path, hypotheses: Path) -> None:
    main = sacrebleu_cli(reference, hypotheses, "-m", "chrf", "bleu")
    plus = sacrebleu_cli(reference, hypotheses, "-m", "chrf", "--chrf-word-order", "2")
    assert report["chrf"] == pytest.approx(main["chrF2"], abs=0.01)
    assert report["bleu"] == pytest.approx(main["BLEU"], abs=0.01)
    assert report["chrf++"] == pytest.approx(plus["chrF2++"], abs=0.01)


@pytest.mark.skipif(not FLORES.is_dir(), reason="no FLORES-200 data in ../shared/eval")
def test_flores_default_data_scores_like_sacrebleu_and_says_synthetic(installed, tmp_path):
    hypotheses = tmp_path / "hyp.hi"
    report = evaluate("en", "hi", "--limit", "40", "--output", str(hypotheses))
    assert report["model"] == "en-hi@1.0"
    assert report["synthetic"] is True
    assert "measures nothing" in report["note"]
    assert report["sentences"] == 40 and report["sentences_per_s"] > 0
    assert report["peak_rss_mib"] > 0
    assert report["source"].endswith("eng_Latn.devtest")
    assert report["reference"].endswith("hin_Deva.devtest")
    assert "tok:13a" in report["signatures"]["bleu"]
    lines = hypotheses.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and all(lines)
    reference = tmp_path / "ref.hi"
    reference.write_text("".join(line + "\n" for line in (
        FLORES / "hin_Deva.devtest").read_text(encoding="utf-8").splitlines()[:40]),
        encoding="utf-8")
    assert report["chrf"] > 0
    assert_matches_sacrebleu_cli(report, reference, hypotheses)

    text = CliRunner().invoke(cli, ["models", "evaluate", "en", "hi", "--limit", "5"],
                              catch_exceptions=False).output
    assert text.startswith("SYNTHETIC MODEL") and "measures nothing" in text
    assert "chrF++" in text and "sentences/s" in text and "peak RSS" in text
    assert "13a tokenizer" in text


def test_own_files_with_nonzero_bleu_match_sacrebleu(installed, tmp_path):
    """A reference made from the model's own output with some words changed: every metric
    is far from zero, so agreement with sacrebleu's CLI is a real check."""
    source = tmp_path / "src.en"
    source.write_text("".join(f"{line}\n" for line in [
        "Xiaomi has been making major investments in India.",
        "The company has partnered with Dixon Technologies.",
        "The phone costs Rs 23,999 and has 128GB of storage.",
        "This partnership marks a major milestone.",
        "Shares rose by four percent on Tuesday.",
        "The factory will make smartphones for the country."]), encoding="utf-8")
    first = tmp_path / "first.hi"
    evaluate("en", "hi", "--source", str(source), "--reference", str(source),
             "--output", str(first))
    outputs = first.read_text(encoding="utf-8").splitlines()
    reference = tmp_path / "ref.hi"
    reference.write_text("".join(
        (line if index % 2 else " ".join(line.split()[:-1] + ["अलग"])) + "\n"
        for index, line in enumerate(outputs)), encoding="utf-8")
    hypotheses = tmp_path / "hyp.hi"
    report = evaluate("en", "hi", "--source", str(source), "--reference", str(reference),
                      "--output", str(hypotheses))
    assert hypotheses.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    assert report["bleu"] > 10 and report["chrf"] > 30
    assert_matches_sacrebleu_cli(report, reference, hypotheses)


def test_refuses_mismatched_files_and_unreachable_pairs(installed, tmp_path):
    source, reference = tmp_path / "a", tmp_path / "b"
    source.write_text("one\ntwo\n")
    reference.write_text("one\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["models", "evaluate", "en", "hi", "--source", str(source),
                                 "--reference", str(reference)])
    assert result.exit_code != 0 and "aligned line by line" in result.output
    result = runner.invoke(cli, ["models", "evaluate", "en", "hi", "--source", str(source)])
    assert result.exit_code != 0 and "both --source and --reference" in result.output
    result = runner.invoke(cli, ["models", "evaluate", "en", "bn", "--limit", "2"])
    assert result.exit_code != 0 and "bn" in result.output


def test_help_describes_the_command():
    help_text = CliRunner().invoke(cli, ["models", "evaluate", "--help"]).output
    assert "sacrebleu" in help_text and "--limit" in help_text and "synthetic" in help_text
