"""The commands on a saved model: ``predict``, ``evaluate``, ``summary`` and ``export``."""

from __future__ import annotations

import sys

from glassnet.cli.flags import UsageError, tell


def add_predict(sub):
    p = sub.add_parser(
        "predict",
        help="predict the rows of a CSV file with a trained model",
        description="Write the rows of DATA with the model's prediction (the original labels, "
        "or numbers in the target's units) as CSV, to stdout or --out.",
    )
    p.add_argument("model", help="a model file written by glassnet train")
    p.add_argument(
        "data",
        help="a CSV file with the model's feature columns (extra columns "
        "are ignored), or an image for a digits model",
    )
    p.add_argument("--out", metavar="FILE", help="write the CSV here instead of stdout")
    p.add_argument("--proba", action="store_true", help="add a probability column per class")
    p.add_argument(
        "--id",
        metavar="COLUMN",
        help="write only this column of DATA (first) with the predictions, e.g. an identifier",
    )
    _add_drop_missing(p)
    p.set_defaults(run=run_predict)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def run_predict(args) -> int:
    from pathlib import Path

    from glassnet import tabular

    if Path(args.data).suffix.lower() in IMAGE_SUFFIXES:
        return _predict_image(args)
    if args.out:
        tabular.check_output(Path(args.out), "predictions", inputs=[args.data, args.model])
    frame, notes = tabular.predict(
        args.model, args.data, proba=args.proba, drop_missing=args.drop_missing, id=args.id
    )
    for note in notes:
        tell(note, prefix="glassnet: note: ", file=sys.stderr)
    if args.out:
        tabular.write_csv(frame, args.out)
        print(f"{len(frame)} predictions written to {args.out}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def _predict_image(args) -> int:
    """``glassnet predict MODEL digit.png``: the digit and its probability."""
    from pathlib import Path

    from glassnet.io.model_file import load

    if args.out or args.proba or args.drop_missing or args.id:
        raise UsageError("--out, --proba, --id and --drop-missing apply to CSV files, not images")
    if not Path(args.data).is_file():
        raise UsageError(f"image not found: {args.data!r}")
    model = load(args.model)
    from glassnet.datasets.images import predict_image

    label, probability = predict_image(model, args.data)
    print(f"digit: {label} (probability {probability:.3f})")
    return 0


def add_evaluate(sub):
    p = sub.add_parser(
        "evaluate",
        help="measure a trained model on a CSV file with known targets",
        description="Metrics of a model on DATA: loss, accuracy and macro F1 with the "
        "confusion matrix (classification), or RMSE, MAE and R² (regression).",
    )
    p.add_argument("model", help="a model file written by glassnet train")
    p.add_argument("data", help="a CSV file holding the feature and target columns")
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="the column with the true values (default: the model's target)",
    )
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="write the confusion matrix (or predicted against true) as a PNG",
    )
    _add_drop_missing(p)
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    from glassnet import tabular

    result = tabular.evaluate(
        args.model, args.data, target=args.target, drop_missing=args.drop_missing, plot=args.plot
    )
    for note in result.notes:
        tell(note, prefix="glassnet: note: ", file=sys.stderr)
    print(tabular.format_evaluation(result))
    return 0


def add_summary(sub):
    p = sub.add_parser(
        "summary",
        help="describe a saved model",
        description="Architecture, parameter counts, preprocessing and a "
        "digest of the training history of a model file.",
    )
    p.add_argument("model", help="a model file written by glassnet")
    p.set_defaults(run=run_summary)


def run_summary(args) -> int:
    from glassnet.io.model_file import load
    from glassnet.tabular import describe

    print(describe(load(args.model)))
    return 0


def add_export(sub):
    p = sub.add_parser(
        "export",
        help="export a model as an ONNX graph",
        description="Export a model file as an ONNX graph (needs the onnx "
        "extra: pip install glassnet[onnx]).",
    )
    p.add_argument("model", help="a model file written by glassnet")
    p.add_argument("--onnx", required=True, metavar="FILE", help="write the ONNX graph here")
    p.add_argument(
        "--network-only",
        action="store_true",
        help="leave the stored preprocessing out: the graph then takes the "
        "encoded, standardised inputs (needed when there are text columns)",
    )
    p.set_defaults(run=run_export)


def run_export(args) -> int:
    from pathlib import Path

    from glassnet.io.files import check_output
    from glassnet.io.model_file import load

    out = Path(args.onnx)
    check_output(out, "ONNX graph", inputs=[args.model], param="onnx")
    model = load(args.model)
    try:
        from glassnet.io.onnx import export_onnx

        export_onnx(model, out, preprocessing=not args.network_only)  # writes atomically
    except ImportError as exc:
        raise UsageError(
            f"ONNX export needs the onnx extra: pip install glassnet[onnx] ({exc})"
        ) from None
    print(f"ONNX graph written to {out} ({out.stat().st_size:,} bytes)")
    return 0


def _add_drop_missing(p) -> None:
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="leave out rows with a missing value the model cannot fill",
    )
