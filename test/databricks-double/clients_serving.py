"""Drives the Databricks double's Model Serving with the official Databricks SDK: create_and_wait, a 90/10 canary
with update_config_and_wait, query (attributed by the served-model-name header), an update that fails (the SDK
raises, the old config stays), get and delete.

Run with the project's .venv python, with DATABRICKS_HOST and credentials set; argv[1] is the UC model name,
argv[2] a JSON list of its version numbers [good, good, failing]. Prints one JSON object."""
import json
import sys
import warnings
from collections import Counter

warnings.filterwarnings("ignore")

from databricks.sdk import WorkspaceClient  # noqa: E402
from databricks.sdk.errors import OperationFailed, ResourceConflict  # noqa: E402
from databricks.sdk.service.serving import (  # noqa: E402
    DataframeSplitInput,
    EndpointCoreConfigInput,
    Route,
    ServedEntityInput,
    TrafficConfig,
)

model, versions = sys.argv[1], json.loads(sys.argv[2])
endpoint = "churn-sdk"
out = {}
w = WorkspaceClient()


def entity(version):
    return ServedEntityInput(
        name=f"churn-{version}",
        entity_name=model,
        entity_version=version,
        workload_size="Small",
        scale_to_zero_enabled=False,
    )


def traffic(*pairs):
    return TrafficConfig(routes=[Route(served_entity_name=f"churn-{v}", traffic_percentage=p) for v, p in pairs])


created = w.serving_endpoints.create_and_wait(
    endpoint,
    config=EndpointCoreConfigInput(
        name=endpoint, served_entities=[entity(versions[0])], traffic_config=traffic((versions[0], 100))
    ),
)
out["created"] = {
    "ready": created.state.ready.value,
    "config_update": created.state.config_update.value,
    "config_version": created.config.config_version,
    "entities": [e.name for e in created.config.served_entities],
    "deployment": [e.state.deployment.value for e in created.config.served_entities],
}

# An update while one is in progress is refused with the SDK's ResourceConflict.
w.serving_endpoints.update_config(
    endpoint,
    served_entities=[entity(versions[0]), entity(versions[1])],
    traffic_config=traffic((versions[0], 90), (versions[1], 10)),
)
try:
    w.serving_endpoints.update_config(
        endpoint, served_entities=[entity(versions[0])], traffic_config=traffic((versions[0], 100))
    )
    out["conflict"] = None
except ResourceConflict as error:
    out["conflict"] = type(error).__name__
pending = w.serving_endpoints.get(endpoint)
out["while_updating"] = {
    "config_update": pending.state.config_update.value,
    "pending_config_version": pending.pending_config.config_version,
    "active_entities": [e.name for e in pending.config.served_entities],
}
canary = w.serving_endpoints.wait_get_serving_endpoint_not_updating(endpoint)
out["canary_routes"] = {r.served_entity_name: r.traffic_percentage for r in canary.config.traffic_config.routes}

answers = Counter()
for _ in range(100):
    response = w.serving_endpoints.query(
        endpoint, dataframe_split=DataframeSplitInput(columns=["x"], data=[[1], [2]])
    )
    answers[response.served_model_name] += 1
    out["predictions"] = response.predictions
out["answered_by"] = dict(answers)

try:
    w.serving_endpoints.update_config_and_wait(
        endpoint,
        served_entities=[entity(versions[2])],
        traffic_config=traffic((versions[2], 100)),
    )
    out["failed_update"] = None
except OperationFailed as error:
    out["failed_update"] = str(error)
after = w.serving_endpoints.get(endpoint)
out["after_failure"] = {
    "ready": after.state.ready.value,
    "config_update": after.state.config_update.value,
    "config_version": after.config.config_version,
    "entities": sorted(e.name for e in after.config.served_entities),
}

w.serving_endpoints.delete(endpoint)
out["listed_after_delete"] = [e.name for e in w.serving_endpoints.list()]
print(json.dumps(out))
