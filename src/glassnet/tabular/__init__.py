"""Your own table: train, predict, evaluate and describe — the library under ``glassnet train``.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``pipeline``       :func:`train`: its options checked, the network, early stopping, the saved
                   model
``defaults``       train's defaults and why (benchmarks/tabular.py): the optimizer with its
                   cosine decay, label smoothing, the network's size
``checkpoint``     training that survives being killed: what a checkpoint stores of the run,
                   :func:`~checkpoint.check_same_data` before resuming, SIGTERM as Ctrl-C
``table``          the training table (a CSV file or a pandas DataFrame): reading, missing
                   values, the task, the split, the preprocessing learned
                   (:func:`~table.prepare_table`), the notes on columns of names
``preprocessing``  :class:`TablePreprocessor` (made of the estimators in ``encoders``)
``encoders``       the small estimators: robust scaler, standardiser, one-hot, label
                   encoder, imputer
``onnx_steps``     the table preprocessing's ONNX hooks (imputation, scaling nodes)
``predict``        :func:`predict`, :func:`evaluate`, :func:`load_model`, :func:`write_csv`
``report``         the plan told before training; :class:`TrainResult`,
                   :class:`EvaluateResult` and their text and plots
``card``           :func:`describe`: what ``glassnet summary`` prints about a model, and a
                   table preprocessing's description
``columns``        task detection, class labels as the table spells them, and the wording of
                   columns, rows, missing values and notes (:class:`~columns.Note`)
=================  ==========================================================================
"""

from glassnet.datasets import tabular as tables
from glassnet.io.files import check_output
from glassnet.tabular.card import describe
from glassnet.tabular.columns import MAX_INTEGER_CLASSES, detect_task
from glassnet.tabular.pipeline import (
    DEFAULT_ACTIVATION,
    DEFAULT_BATCH_SIZE,
    DEFAULT_EPOCHS,
    DEFAULT_HIDDEN,
    DEFAULT_OPTIMIZER,
    DEFAULT_PATIENCE,
    DEFAULT_SEED,
    Interrupted,
    parse_hidden,
    train,
)
from glassnet.tabular.predict import evaluate, load_model, predict, write_csv
from glassnet.tabular.preprocessing import IMPUTE_STRATEGIES, TablePreprocessor
from glassnet.tabular.report import (
    EvaluateResult,
    TrainResult,
    format_confusion,
    format_evaluation,
    format_metrics_table,
    format_seconds,
    format_train_report,
)
from glassnet.tabular.table import DEFAULT_VALIDATION_SPLIT, MIN_ROWS_FOR_VALIDATION
from glassnet.training.metrics import macro_f1, regression_metrics

__all__ = [
    "DEFAULT_ACTIVATION",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "DEFAULT_HIDDEN",
    "DEFAULT_OPTIMIZER",
    "DEFAULT_PATIENCE",
    "DEFAULT_SEED",
    "DEFAULT_VALIDATION_SPLIT",
    "IMPUTE_STRATEGIES",
    "MAX_INTEGER_CLASSES",
    "MIN_ROWS_FOR_VALIDATION",
    "EvaluateResult",
    "Interrupted",
    "TablePreprocessor",
    "TrainResult",
    "check_output",
    "describe",
    "detect_task",
    "evaluate",
    "format_confusion",
    "format_evaluation",
    "format_metrics_table",
    "format_seconds",
    "format_train_report",
    "load_model",
    "macro_f1",
    "parse_hidden",
    "predict",
    "regression_metrics",
    "tables",
    "train",
    "write_csv",
]
