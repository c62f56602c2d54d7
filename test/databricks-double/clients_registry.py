"""Drives the Databricks double's Unity Catalog registry and Files API with clients no one here wrote: MLflow's own
Unity Catalog client (register_model, aliases, update_model_version, load_model) and the official Databricks SDK
(Files API metadata, downloads and listings, a DELETE with its parameters in the query string).

Run with the project's .venv python, with DATABRICKS_HOST and either DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID and
DATABRICKS_CLIENT_SECRET set; argv[1] is a model directory, argv[2] the model's three-level name. Prints one JSON
object: what each client saw. Any exception fails the script (exit 1, traceback on stderr)."""
import hashlib
import json
import logging
import os
import sys
import warnings

warnings.filterwarnings("ignore")
# The SDK logs a failed host-metadata probe as a warning and carries on: the test must see it as an error.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

model_dir, name = sys.argv[1], sys.argv[2]
out = {}

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402
from databricks.sdk import WorkspaceClient  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

warnings_seen = []


class Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING and record.name.startswith("databricks"):
            warnings_seen.append(record.getMessage())


logging.getLogger().addHandler(Collect())

w = WorkspaceClient()
out["auth_type"] = w.config.auth_type
out["workspace_id"] = w.config.workspace_id

mlflow.set_registry_uri("databricks-uc")
mv = mlflow.register_model(model_dir, name)
out["registered"] = {"version": str(mv.version), "status": str(mv.status)}

client = MlflowClient()
client.set_registered_model_alias(name, "champion", mv.version)
out["alias_version"] = str(client.get_model_version_by_alias(name, "champion").version)
updated = client.update_model_version(name, mv.version, description="churn, trained on March data")
out["description_answered"] = updated.description
out["description_read"] = client.get_model_version(name, mv.version).description

model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
example = json.load(open(os.path.join(model_dir, "input_example.json")))
frame = pd.DataFrame(example["data"], columns=example["columns"])
out["predictions"] = [int(p) for p in model.predict(frame)]

root = f"/Models/{name.replace('.', '/')}/{mv.version}"
metadata = w.files.get_metadata(f"{root}/MLmodel")
local = open(os.path.join(model_dir, "MLmodel"), "rb").read()
out["mlmodel_metadata_length"] = metadata.content_length
out["mlmodel_local_length"] = len(local)
downloaded = w.files.download(f"{root}/MLmodel").contents.read()
out["mlmodel_download_matches"] = hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(local).hexdigest()
w.files.get_directory_metadata(root)
out["listing"] = sorted(entry.name for entry in w.files.list_directory_contents(root))
out["local_files"] = sorted(os.listdir(model_dir))

# The SDK sends a DELETE's parameters in the query string.
w.api_client.do(
    "DELETE", "/api/2.0/mlflow/unity-catalog/registered-models/alias", query={"name": name, "alias": "champion"}
)
out["aliases_after_delete"] = sorted(client.get_registered_model(name).aliases)
out["sdk_warnings"] = warnings_seen
print(json.dumps(out))
