#!/usr/bin/env python3
"""Pins the part of botocore's ECR service model that test/support/fake-ecr.ts speaks.

Run: python3 scripts/extract-ecr-model.py > test/fixtures/ecr-model.json && npm run format
It reads the newest ECR model of the botocore that `import botocore` finds, as files (importing botocore
pulls in its HTTP stack). The pin comes from pip's botocore 1.43.11, which has the archive storage class
(imageStatus); Debian's python3-botocore (1.29, which .ci/run installs) predates it, so
test/wire/ecr-fake-spec.test.ts checks the pin against Debian's model where that is installed: every shape
Debian has must agree with the pin, which may only have grown (new members and enum values).
botocore's models are Apache-2.0 (https://github.com/boto/botocore/blob/develop/LICENSE.txt).
"""
import gzip
import importlib.metadata
import importlib.util
import json
import os
import sys

OPERATIONS = ["DescribeRepositories", "DescribeImages", "BatchGetImage", "BatchDeleteImage"]
KEEP = {"type", "members", "required", "member", "key", "value", "enum", "min", "max", "exception", "error",
        "timestampFormat", "pattern"}


def load(path):
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    spec = importlib.util.find_spec("botocore")
    data = os.path.join(os.path.dirname(spec.origin), "data", "ecr")
    version_dir = os.path.join(data, sorted(os.listdir(data))[-1])
    model = load(os.path.join(version_dir, "service-2.json"))
    shapes = model["shapes"]
    picked, todo = {}, []
    operations = {}
    for name in OPERATIONS:
        op = model["operations"][name]
        operations[name] = {"input": op["input"]["shape"], "output": op["output"]["shape"],
                            "errors": [e["shape"] for e in op.get("errors", [])]}
        todo += [op["input"]["shape"], op["output"]["shape"]] + operations[name]["errors"]
    while todo:
        name = todo.pop()
        if name in picked:
            continue
        shape = {k: v for k, v in shapes[name].items() if k in KEEP}
        if "members" in shape:
            shape["members"] = {m: {"shape": v["shape"]} for m, v in shape["members"].items()}
            todo += [v["shape"] for v in shape["members"].values()]
        for ref in ("member", "key", "value"):
            if ref in shape:
                shape[ref] = {"shape": shape[ref]["shape"]}
                todo.append(shape[ref]["shape"])
        picked[name] = shape
    json.dump({
        "source": f"botocore {importlib.metadata.version('botocore')}, data/ecr/{os.path.basename(version_dir)}"
                  "/service-2.json (Apache-2.0); operations and the shapes they reach, documentation dropped",
        "metadata": {k: model["metadata"][k] for k in ("apiVersion", "protocol", "targetPrefix", "jsonVersion")},
        "operations": operations,
        "shapes": dict(sorted(picked.items())),
    }, sys.stdout, indent=2)
    sys.stdout.write("\n")


main()
