"""`localise models evaluate`: score an installed model on FLORES-200 (or given files)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from service.cli.base import _store
from service.cli.models import models
from service.cli.terminal import echo


@models.command("evaluate", help=(
    "Translate a test set through the engine jobs use (configured CT2_* settings, the route "
    "the job runner would pick) and score it with sacrebleu: chrF, chrF++ and BLEU (its "
    "default 13a tokenizer; spBLEU's tokenizers need a download), with sentences/s and peak "
    "RSS. Default data: the FLORES-200 devtest in EVAL_DATA_DIR. On a synthetic package the "
    "score measures nothing, and the output says so."))
@click.argument("from_code")
@click.argument("to_code")
@click.option("--source", "source_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="Source sentences, one per line (with --reference).")
@click.option("--reference", "reference_file", type=click.Path(exists=True, dir_okay=False,
                                                               path_type=Path),
              help="Reference translations, line by line with --source.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N sentences.")
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the hypotheses here, one per line (to score with sacrebleu's CLI).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def models_evaluate(from_code: str, to_code: str, source_file: Path | None,
                    reference_file: Path | None, limit: int | None, output_file: Path | None,
                    as_json: bool) -> None:
    from engine.evaluation import (
        EvaluationError,
        evaluate,
        flores_files,
        load_test_set,
        report,
    )
    from engine.packages import PackageError
    from engine.translator import Engine, EngineSettings
    from service.platform.config import load_config
    if (source_file is None) != (reference_file is None):
        raise click.UsageError("give both --source and --reference, or neither")
    config = load_config()
    try:
        if source_file is None:
            source_file, reference_file = flores_files(Path(config["EVAL_DATA_DIR"]),
                                                       from_code, to_code)
        test_set = load_test_set(source_file, reference_file, limit)
        route = _store().route(from_code, to_code, config["PIVOT_LANG"])
    except (EvaluationError, PackageError) as exc:
        raise click.ClickException(str(exc)) from exc
    evaluation = evaluate(Engine(EngineSettings.from_config(config)), route, test_set,
                          from_code)
    if output_file is not None:
        output_file.write_text("".join(f"{line}\n" for line in evaluation.hypotheses),
                               encoding="utf-8")
    if as_json:
        echo(json.dumps({**evaluation.as_dict(), "source": str(test_set.source_path),
                               "reference": str(test_set.reference_path)},
                              ensure_ascii=False))
    else:
        echo(report(evaluation, test_set))
