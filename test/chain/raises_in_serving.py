"""A model from code (MLflow's models-from-code: the model is this file, not a pickle) that loads and reports
ready like any model, then raises on every prediction."""

import mlflow
from mlflow.pyfunc import PythonModel


class RaisesInServing(PythonModel):
    def predict(self, context, model_input, params=None):
        raise ValueError("this model raises on every prediction")


mlflow.models.set_model(RaisesInServing())
