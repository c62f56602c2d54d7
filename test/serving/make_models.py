"""Builds the small bad model versions the serving tests deploy (the good version is the example's churn model).

Usage: python make_models.py <out-dir>. Writes <out-dir>/raises, <out-dir>/slow and <out-dir>/unloadable, each an
MLflow pyfunc model that accepts the churn model's serving input.
"""

import sys
import time

import mlflow.pyfunc


class Raises(mlflow.pyfunc.PythonModel):
    """Loads and reports ready like any model, then raises on every prediction."""

    def predict(self, context, model_input, params=None):
        raise ValueError("this model raises on every prediction")


class Slow(mlflow.pyfunc.PythonModel):
    """Answers correctly, slowly."""

    def predict(self, context, model_input, params=None):
        time.sleep(0.25)
        return [0] * len(model_input)


class Unloadable(mlflow.pyfunc.PythonModel):
    """Cannot be loaded: the server exits before it answers /ping."""

    def load_context(self, context):
        raise RuntimeError("this model cannot be loaded")

    def predict(self, context, model_input, params=None):
        return [0] * len(model_input)


out = sys.argv[1]
for name, model in [("raises", Raises()), ("slow", Slow()), ("unloadable", Unloadable())]:
    # Explicit requirements: inferring them would load the model (and Unloadable cannot be).
    mlflow.pyfunc.save_model(f"{out}/{name}", python_model=model, pip_requirements=["mlflow"])
