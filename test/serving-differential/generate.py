"""Random signatures and serving bodies, judged by MLflow itself.

    python generate.py OUT_DIR --seed N --count N

Writes OUT_DIR/cases/NNNN/ (an MLmodel with the signature, a trivial pyfunc model, the body as
serving_input_example.json) and OUT_DIR/results.json with MLflow's answer for each case:
`mlflow.models.validate_serving_input(model_dir, body)` accepted it, or refused it with a message. One process,
seeded, so the same seed gives the same cases. Now and then a value is NaN, Infinity or -Infinity (in a column, inside
an array, object or map, in a tensor, in a param), written as json.dump writes a pandas missing value, which is how
MLflow writes an input example with missing values. The jest test runs modelgate's checks on the same directories.
"""

import argparse
import base64
import json
import logging
import os
import random
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))

SCALARS = ["boolean", "integer", "long", "float", "double", "string", "binary", "datetime"]
GOOD_DTYPES = ["float64", "float32", "int64", "int32", "int8", "uint8", "bool", "str", "object"]
ODD_DTYPES = [
    "float16",
    "uint16",
    "complex128",
    "bytes",
    "longdouble",
    "datetime64[ns]",
    "timedelta64[s]",
    "void",
    "float",
    "int",
    "string",
    "str32",
    "<U10",
    "float8",
]
DATES = [
    "2024-01-02",
    "2024-01-02T03:04:05",
    "2024-01-02 03:04:05",
    "2024-01-02T03:04:05.123456",
    "2024-02-29",
]
ODD_DATES = [
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05+02:00",
    "01/02/2024",
    "2024/01/02",
    "Jan 2 2024",
    "2024-13-45",
    "not a date",
    "20240102",
    "2024-01",
    "",
    "2024-01-02T03:04",
]
WORDS = ["a", "bc", "churn", "x y", "", "2024-01-02", "12", "true", "ünï"]
ODD_VALUES = [
    None,
    1.5,
    2.0,
    2,
    0,
    1,
    1099511627776,
    -3,
    "abc",
    "12",
    "1.5",
    True,
    False,
    [1, 2],
    [1.5, 2.5],
    ["a"],
    {"k": 1},
    [[1]],
    [],
    {},
    "2024-01-02",
    "2024-01-02T10:00:00+02:00",
    "not a date",
    "aGVsbG8=",
]


# What json.dump writes for a pandas missing value and for infinities (NaN, Infinity, -Infinity), which MLflow reads
# back with json.loads.
NON_FINITE = [float("nan"), float("inf"), float("-inf")]


class Gen:
    def __init__(self, rng, non_finite_rng):
        self.r = rng
        # Its own stream, so adding the non-finite values left every other random choice of a seed as it was.
        self.nf = non_finite_rng

    def non_finite(self, value, p):
        """Now and then NaN or an infinity instead of the value, as json.dump writes them."""
        return self.nf.choice(NON_FINITE) if self.nf.random() < p else value

    def chance(self, p):
        return self.r.random() < p

    # ---- types ---------------------------------------------------------------------------------------------------

    def value_type(self, depth=0):
        roll = self.r.random()
        if depth >= 2 or roll < 0.55:
            return {"type": self.r.choice(SCALARS)}
        if roll < 0.72:
            return {"type": "array", "items": self.value_type(depth + 1)}
        if roll < 0.86:
            props = {}
            for i in range(self.r.randint(1, 3)):
                prop = self.value_type(depth + 1)
                prop["required"] = self.chance(0.7)
                props[f"p{i}"] = prop
            return {"type": "object", "properties": props}
        if roll < 0.97:
            return {"type": "map", "values": self.value_type(depth + 1)}
        return {"type": "any"}

    def column_schema(self):
        named = self.chance(0.85)
        specs = []
        for i in range(self.r.randint(1, 4)):
            spec = self.value_type()
            if named:
                spec["name"] = f"c{i}"
                spec["required"] = self.chance(0.75)
            specs.append(spec)
        return specs

    def tensor_schema(self):
        count = 1 if self.chance(0.6) else self.r.randint(2, 3)
        named = count > 1 or self.chance(0.4)
        specs = []
        for i in range(count):
            dtype = self.r.choice(ODD_DTYPES) if self.chance(0.1) else self.r.choice(GOOD_DTYPES)
            roll = self.r.random()
            if roll < 0.3:
                shape = [-1]
            elif roll < 0.65:
                shape = [-1, self.r.randint(1, 3)]
            elif roll < 0.75:
                shape = [-1, -1]
            elif roll < 0.85:
                shape = [self.r.randint(1, 3)]
            elif roll < 0.93:
                shape = [-1, self.r.randint(1, 2), self.r.randint(1, 2)]
            else:
                shape = [self.r.randint(1, 2), -1]
            spec = {"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": shape}}
            if named:
                spec["name"] = f"t{i}"
            specs.append(spec)
        return specs

    def param_schema(self):
        params = []
        for i in range(self.r.randint(1, 2)):
            if self.chance(0.1):
                ptype = {"type": "object", "properties": {"k": {"type": "long", "required": True}}}
            else:
                ptype = {"type": self.r.choice([t for t in SCALARS if t != "binary"])}
            shape = [-1] if self.chance(0.3) else None
            default = self.param_value(ptype, shape)
            if self.chance(0.15):
                default = self.r.choice(ODD_VALUES)
            params.append({"name": f"p{i}", **ptype, "default": default, "shape": shape})
        return params

    # ---- values --------------------------------------------------------------------------------------------------

    def scalar(self, name):
        r = self.r
        if name == "boolean":
            return r.choice([True, False])
        if name == "integer":
            return r.randint(-100, 100)
        if name == "long":
            return r.randint(-(10**6), 10**6)
        if name in ("float", "double"):
            roll = r.random()
            if roll < 0.5:
                return round(r.uniform(-10, 10), 3)
            if roll < 0.75:
                return float(r.randint(-3, 3))
            return r.randint(-3, 3)
        if name == "string":
            return r.choice(WORDS)
        if name == "binary":
            return base64.b64encode(bytes(r.randint(0, 255) for _ in range(r.randint(0, 5)))).decode()
        if name == "datetime":
            return r.choice(ODD_DATES) if self.chance(0.15) else r.choice(DATES)
        raise ValueError(name)

    def odd(self, value):
        """A value a little off its type, now and then."""
        return self.r.choice(ODD_VALUES) if self.chance(0.05) else value

    def value(self, vtype):
        kind = vtype["type"]
        if kind in SCALARS:
            return self.non_finite(self.odd(self.scalar(kind)), 0.06)
        if kind == "array":
            items = [self.value(vtype["items"]) for _ in range(self.r.randint(0, 3))]
            return self.odd(items)
        if kind == "object":
            obj = {}
            for name, prop in vtype["properties"].items():
                if prop.get("required", True) or self.chance(0.5):
                    obj[name] = self.value(prop)
            if self.chance(0.05):
                obj["extra"] = 1
            return self.odd(obj)
        if kind == "map":
            return self.odd({f"k{i}": self.value(vtype["values"]) for i in range(self.r.randint(0, 2))})
        return self.r.choice([1, "a", [1, 2], {"x": 1}, None])

    def param_value(self, ptype, shape):
        if shape is not None:
            return [self.param_value(ptype, None) for _ in range(self.r.randint(0, 2))]
        if ptype["type"] == "object":
            return {"k": self.r.randint(0, 9)}
        return self.scalar(ptype["type"])

    def tensor_value(self, dtype, shape):
        dims = [self.r.randint(1, 3) if d == -1 else d for d in shape]

        def leaf():
            if dtype.startswith(("float", "longdouble", "complex")):
                v = self.scalar("double")
            elif dtype.startswith(("int", "uint")):
                v = self.r.randint(0, 9)
            elif dtype == "bool":
                v = self.r.choice([True, False])
            elif dtype in ("str", "bytes", "string"):
                v = self.r.choice(WORDS)
            elif dtype.startswith("datetime"):
                v = self.r.choice(DATES)
            else:
                v = self.r.choice([1, "a", 2.5, True])
            return self.non_finite(self.r.choice(ODD_VALUES) if self.chance(0.04) else v, 0.05)

        def build(level):
            if level == len(dims):
                return leaf()
            return [build(level + 1) for _ in range(dims[level])]

        array = build(0)
        rows = [row for row in array if isinstance(row, list)] if isinstance(array, list) else []
        if self.chance(0.08) and rows:
            self.r.choice(rows).append(leaf())  # ragged
        return array

    # ---- bodies --------------------------------------------------------------------------------------------------

    def column_body(self, specs):
        names = [s.get("name", i) for i, s in enumerate(specs)]
        rows = []
        for _ in range(self.r.randint(1, 3)):
            row = {}
            for name, spec in zip(names, specs):
                if not spec.get("required", True) and self.chance(0.3):
                    continue
                if self.chance(0.03):
                    continue  # a required column missing from a row
                row[name] = self.value(spec)
            if self.chance(0.05):
                row["extra"] = self.r.choice([1, "x"])
            rows.append(row)
        columns = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        fmt = self.r.choice(["dataframe_split", "dataframe_records", "instances", "inputs"])
        named = specs[0].get("name") is not None
        as_lists = [[row.get(c) for c in columns] for row in rows]
        if fmt == "dataframe_split":
            body = {"data": as_lists}
            if named or self.chance(0.3):
                body["columns"] = columns
            return {fmt: body}
        if fmt == "dataframe_records":
            return {fmt: rows if named else as_lists}
        roll = self.r.random()
        if roll < 0.35 and named:
            return {fmt: rows}
        if roll < 0.6 and named:
            return {fmt: {c: [row.get(c) for row in rows] for c in columns}}
        if roll < 0.75 and named:
            return {fmt: rows[0]}
        if roll < 0.85 and len(columns) == 1 and named:
            return {fmt: [row.get(columns[0]) for row in rows]}
        return {fmt: as_lists}

    def tensor_body(self, specs):
        named = specs[0].get("name") is not None
        arrays = {}
        for i, spec in enumerate(specs):
            arrays[spec.get("name", i)] = self.tensor_value(spec["tensor-spec"]["dtype"], spec["tensor-spec"]["shape"])
        if named and self.chance(0.05):
            arrays.pop(self.r.choice(list(arrays)))
        fmt = self.r.choice(["inputs", "inputs", "instances", "instances", "dataframe_split", "dataframe_records"])
        if not named:
            array = arrays[0]
            if fmt == "dataframe_split":
                rows = array if isinstance(array, list) else [array]
                return {fmt: {"data": [r if isinstance(r, list) else [r] for r in rows]}}
            if fmt == "dataframe_records":
                rows = array if isinstance(array, list) else [array]
                return {fmt: [{"0": r} for r in rows]}
            return {fmt: array}
        if fmt in ("dataframe_split", "dataframe_records"):
            names = list(arrays)
            length = min((len(a) for a in arrays.values() if isinstance(a, list)), default=1)
            records = [{n: arrays[n][i] if isinstance(arrays[n], list) else arrays[n] for n in names} for i in range(length)]
            if fmt == "dataframe_split":
                return {fmt: {"columns": names, "data": [[rec[n] for n in names] for rec in records]}}
            return {fmt: records}
        if fmt == "instances" and self.chance(0.5):
            lengths = {len(a) for a in arrays.values() if isinstance(a, list)}
            if len(lengths) == 1:
                (length,) = lengths
                return {fmt: [{n: a[i] for n, a in arrays.items()} for i in range(length)]}
        return {fmt: arrays}

    def case(self):
        columns = self.chance(0.6)
        inputs = self.column_schema() if columns else self.tensor_schema()
        body = self.column_body(inputs) if columns else self.tensor_body(inputs)
        params = self.param_schema() if self.chance(0.3) else None
        if params and self.chance(0.8):
            values = {}
            for p in params:
                if self.chance(0.7):
                    ptype = {k: v for k, v in p.items() if k in ("type", "properties")}
                    values[p["name"]] = self.param_value(ptype, p["shape"])
                    if self.chance(0.2):
                        values[p["name"]] = self.r.choice(ODD_VALUES)
                    values[p["name"]] = self.non_finite(values[p["name"]], 0.1)
            body["params"] = values
        return {"inputs": inputs, "params": params, "body": body}


def write_case(case_dir, case):
    import yaml

    os.makedirs(case_dir, exist_ok=True)
    signature = {
        "inputs": json.dumps(case["inputs"]),
        "outputs": json.dumps([{"type": "long"}]),
    }
    if case["params"] is not None:
        signature["params"] = json.dumps(case["params"])
    mlmodel = {
        "flavors": {"python_function": {"loader_module": "trivial_model", "python_version": "3.11.0"}},
        "mlflow_version": "3.17.2",
        "signature": signature,
        "saved_input_example_info": {
            "artifact_path": "input_example.json",
            "serving_input_path": "serving_input_example.json",
        },
    }
    with open(os.path.join(case_dir, "MLmodel"), "w") as f:
        yaml.safe_dump(mlmodel, f, sort_keys=False)
    body = json.dumps(case["body"], indent=1)
    for name in ("serving_input_example.json", "input_example.json"):
        with open(os.path.join(case_dir, name), "w") as f:
            f.write(body)
    return body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()

    sys.path.insert(0, HERE)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("MLFLOW_TRACKING_URI", "file:///dev/null")
    import mlflow.models

    gen = Gen(random.Random(args.seed), random.Random(args.seed + 1))
    results = []
    started = time.time()
    for index in range(args.count):
        case_id = f"{index:04d}"
        case_dir = os.path.join(args.out, "cases", case_id)
        body = write_case(case_dir, gen.case())
        try:
            mlflow.models.validate_serving_input(case_dir, body)
            results.append({"id": case_id, "accepted": True})
        except Exception as error:  # MLflow's refusal, whatever its class
            message = f"{type(error).__name__}: {error}".replace(case_dir, "<model>")
            results.append({"id": case_id, "accepted": False, "message": message[:400]})
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"mlflow": mlflow.__version__, "seconds": round(time.time() - started, 1), "cases": results}, f)


if __name__ == "__main__":
    main()
