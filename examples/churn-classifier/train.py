"""Train the example churn classifier and save it as an MLflow model directory.

The data is synthetic (made here from a fixed seed), so the example runs offline and gives the same model every
time. No tracking server is involved: `mlflow.sklearn.save_model` writes the directory that validate-model checks.

    .venv/bin/python examples/churn-classifier/train.py                  # writes examples/churn-classifier/model
    .venv/bin/python examples/churn-classifier/train.py --output /tmp/m --no-signature
    .venv/bin/python examples/churn-classifier/train.py --metrics-out /tmp/candidate.json
"""

import argparse
import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
SEED = 7
CONTRACTS = ["month-to-month", "one-year", "two-year"]
NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["contract", "paperless_billing"]


def make_customers(rows: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, size=rows, p=[0.55, 0.25, 0.20])
    tenure = rng.integers(1, 73, size=rows)
    monthly = rng.normal(65, 25, size=rows).clip(18, 120).round(2)
    customers = pd.DataFrame(
        {
            "tenure_months": tenure.astype("int64"),
            "monthly_charges": monthly,
            "total_charges": (monthly * tenure * rng.uniform(0.9, 1.1, size=rows)).round(2),
            "contract": contract,
            "support_calls": rng.poisson(1.5, size=rows).astype("int64"),
            "paperless_billing": rng.random(rows) < 0.6,
        }
    )
    # Churn is likelier for short tenure, high charges, many support calls and monthly contracts: a signal the
    # model can learn, drawn as a coin flip per customer so that it cannot be learned perfectly.
    logit = (
        -1.0
        - 0.1 * customers.tenure_months
        + 0.05 * (customers.monthly_charges - 65)
        + 0.9 * customers.support_calls
        + np.select([contract == "month-to-month", contract == "one-year"], [2.6, 0.0], -2.4)
        + 0.6 * customers.paperless_billing
    )
    churned = pd.Series(rng.random(rows) < 1 / (1 + np.exp(-logit)), name="churned").astype("int64")
    return customers, churned


def build_pipeline() -> Pipeline:
    features = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numbers", StandardScaler(), NUMERIC),
        ]
    )
    return Pipeline([("features", features), ("classifier", LogisticRegression(max_iter=1000))])


def evaluate(model: Pipeline, x: pd.DataFrame, y: pd.Series, training_rows: int) -> dict:
    predicted = model.predict(x)
    probability = model.predict_proba(x)[:, 1]
    return {
        "accuracy": round(accuracy_score(y, predicted), 4),
        "roc_auc": round(roc_auc_score(y, probability), 4),
        "f1": round(f1_score(y, predicted), 4),
        "precision": round(precision_score(y, predicted), 4),
        "recall": round(recall_score(y, predicted), 4),
        "log_loss": round(log_loss(y, probability), 4),
        "training_rows": training_rows,
        "per_class": {
            "stayed": {"recall": round(recall_score(y, predicted, pos_label=0), 4)},
            "churned": {"recall": round(recall_score(y, predicted, pos_label=1), 4)},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=HERE / "model", help="model directory (replaced)")
    parser.add_argument("--no-signature", action="store_true", help="save without signature or input example")
    parser.add_argument("--metrics-out", type=Path, help="also write the held-out metrics as JSON here")
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()

    x, y = make_customers(args.rows, SEED)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)
    model = build_pipeline().fit(x_train, y_train)

    if args.metrics_out:
        args.metrics_out.parent.mkdir(parents=True, exist_ok=True)
        args.metrics_out.write_text(json.dumps(evaluate(model, x_test, y_test, len(x_train)), indent=2) + "\n")

    # save_model refuses an existing directory, so an earlier model is replaced; anything else is left alone.
    if args.output.exists() and any(args.output.iterdir()) and not (args.output / "MLmodel").exists():
        raise SystemExit(f"{args.output} exists and is not an MLflow model directory; choose another --output")
    shutil.rmtree(args.output, ignore_errors=True)
    # MLflow writes requirements.txt with exact pins (==) of what the model imports, as installed here.
    mlflow.sklearn.save_model(
        model,
        args.output,
        signature=None if args.no_signature else infer_signature(x_train, model.predict(x_train)),
        input_example=None if args.no_signature else x_train.head(3),
    )
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
