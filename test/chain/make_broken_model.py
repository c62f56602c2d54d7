"""Builds a churn model that passes every gate and fails in serving: the churn model's signature and serving
example, so validation and the comparison see a well-formed model, and a predict that raises on every request.
It is saved from code (raises_in_serving.py), so it holds no pickle for validation to refuse.

Usage: python make_broken_model.py <churn-model-dir> <out-dir>.
"""

import os
import shutil
import sys

import mlflow.pyfunc
from mlflow.models import Model


good, out = sys.argv[1], sys.argv[2]
churn = Model.load(good)
code = os.path.join(os.path.dirname(os.path.abspath(__file__)), "raises_in_serving.py")
mlflow.pyfunc.save_model(out, python_model=code, signature=churn.signature, pip_requirements=["mlflow"])
for name in ("input_example.json", "serving_input_example.json"):
    shutil.copy(f"{good}/{name}", f"{out}/{name}")
saved = Model.load(out)
saved.saved_input_example_info = churn.saved_input_example_info
saved.save(f"{out}/MLmodel")
