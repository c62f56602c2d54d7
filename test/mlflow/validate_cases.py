"""Runs comparison cases through MLflow's own validate_evaluation_results, for test/mlflow/differential.test.ts.

Reads a JSON list of cases on stdin: {"thresholds": {metric: {threshold?, min_absolute_change?,
min_relative_change?, greater_is_better}}, "candidate": {metric: number}, "baseline": {metric: number} | null}.
Prints one JSON list: for each case, for each metric of its thresholds (in order), {"mlflow": "pass" | "fail" |
"error:<type>", "exact": ...}. "mlflow" is MLflow 3's verdict on that metric alone (validate_evaluation_results with
a one-entry thresholds dict, so one metric's failure never hides another's); "exact" is the same algorithm, line
for line, in exact decimal arithmetic on the numbers as written (their shortest repr), which tells a difference
caused by MLflow's binary floats apart from any other.
"""

import json
import logging
import sys
from decimal import Context, Decimal, localcontext

from mlflow.exceptions import MlflowException
from mlflow.models.evaluation.validation import MetricThreshold, validate_evaluation_results

logging.disable(logging.WARNING)


class Result:
    def __init__(self, metrics):
        self.metrics = metrics


def threshold_of(spec):
    kwargs = dict(spec)
    if kwargs.get("min_relative_change") is not None:
        # MetricThreshold insists on a Python float; JSON writes 1.0 as 1.
        kwargs["min_relative_change"] = float(kwargs["min_relative_change"])
    return MetricThreshold(**kwargs)


def mlflow_verdict(metric, spec, candidate, baseline):
    try:
        validate_evaluation_results(
            {metric: threshold_of(spec)}, Result(candidate), Result(baseline) if baseline is not None else None
        )
        return "pass"
    except MlflowException as error:
        if type(error).__name__ == "ModelValidationFailedException":
            return "fail"
        return "error:" + type(error).__name__
    except Exception as error:  # noqa: BLE001 - MLflow's KeyError and TypeError quirks are results here
        return "error:" + type(error).__name__


def D(x):
    return Decimal(repr(float(x)))


def exact_verdict(metric, spec, candidate, baseline_or_none):
    """MLflow 3.17's _validate, step for step, with exact decimals in place of binary floats."""
    baseline = baseline_or_none or {}
    with localcontext(Context(prec=2000)):
        if metric not in candidate:
            return "fail"
        c = D(candidate[metric])
        greater = spec["greater_is_better"]
        ok = (lambda a, b: a >= b) if greater else (lambda a, b: a <= b)
        failed = False
        if baseline and metric not in baseline:
            return "error:KeyError"
        t = spec.get("threshold")
        if t is not None and not ok(c, D(t)):
            failed = True
        rel = spec.get("min_relative_change")
        absolute = spec.get("min_absolute_change")
        if (rel or absolute) and metric not in baseline:
            return "fail"
        if (rel is not None or absolute is not None) and metric not in baseline:
            return "error:TypeError"
        b = D(baseline[metric]) if metric in baseline else None
        if absolute is not None:
            if not ok(c, b + D(absolute) if greater else b - D(absolute)):
                failed = True
        if rel is not None:
            if b == 0:
                step = Decimal("1e-10")
                if not ok(c, b + step if greater else b - step):
                    failed = True
            else:
                change = (c - b) if greater else (b - c)
                if change < D(rel) * abs(b):
                    failed = True
        return "fail" if failed else "pass"


def main():
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        candidate = case["candidate"]
        baseline = case["baseline"]
        out.append(
            [
                {
                    "mlflow": mlflow_verdict(metric, spec, candidate, baseline),
                    "exact": exact_verdict(metric, spec, candidate, baseline),
                }
                for metric, spec in case["thresholds"].items()
            ]
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
