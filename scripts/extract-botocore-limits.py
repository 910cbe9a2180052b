#!/usr/bin/env python3
"""Pins the botocore service-model values test/unit/aws-infra-schema.test.ts checks infra/aws against.

Run: python3 scripts/extract-botocore-limits.py > test/fixtures/botocore-limits.json && npm run format
     python3 scripts/extract-botocore-limits.py --check   (exit 1 if the installed model contradicts the pin)
It reads the botocore that `import botocore` finds. The pin comes from pip's botocore 1.43.11: Debian's
python3-botocore (1.29, which .ci/run installs for --check) predates nodejs22.x in lambda's Runtime enum,
so it can confirm the limits and the older runtimes, not the runtime we deploy.
"""
import gzip
import importlib.metadata
import importlib.util
import json
import os
import sys

PICK = {
    # service: {label: (shape, what)}
    "lambda": {"Runtime": ("Runtime", "enum"), "FunctionName": ("FunctionName", "length"),
               "EventAge": ("MaximumEventAgeInSeconds", "range"), "Retries": ("MaximumRetryAttempts", "range")},
    "iam": {"RoleName": ("roleNameType", "length"), "PolicyName": ("policyNameType", "length")},
    "scheduler": {"ScheduleName": ("Name", "length"), "RetryAttempts": ("MaximumRetryAttempts", "range"),
                  "RetryEventAge": ("MaximumEventAgeInSeconds", "range")},
    "cloudwatch": {"AlarmName": ("AlarmName", "length")},
    "logs": {"LogGroupName": ("LogGroupName", "length")},
}


def load_model(data, service):
    """The newest API version's service-2.json(.gz), read as files: importing botocore would pull in its
    HTTP stack, which a mismatched urllib3 breaks."""
    latest = os.path.join(data, service, sorted(os.listdir(os.path.join(data, service)))[-1])
    path = os.path.join(latest, "service-2.json")
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def extract():
    spec = importlib.util.find_spec("botocore")
    if spec is None:
        raise ModuleNotFoundError("No module named 'botocore'")
    data = os.path.join(list(spec.submodule_search_locations)[0], "data")
    out = {"botocore": importlib.metadata.version("botocore"), "services": {}}
    for service, picks in PICK.items():
        model = load_model(data, service)
        entry = {"apiVersion": model["metadata"]["apiVersion"]}
        for label, (shape_name, what) in picks.items():
            shape = model["shapes"][shape_name]
            if what == "enum":
                entry[label] = sorted(shape["enum"])
            else:
                entry[label] = {k: shape[k] for k in ("min", "max", "pattern") if k in shape}
        out["services"][service] = entry
    return out


def version(text):
    return tuple(int(part) for part in text.split(".")[:3])


def disagreements(pinned, current):
    """Where the installed model contradicts the pin. Lengths and ranges must be equal; enums only grow
    (botocore adds runtimes, never drops them), so the older side's enum is a subset of the newer's."""
    found = []
    newer = version(current["botocore"]) >= version(pinned["botocore"])
    for service, entry in pinned["services"].items():
        for label, value in entry.items():
            now = current["services"][service][label]
            if isinstance(value, list):
                older, younger = (value, now) if newer else (now, value)
                missing = sorted(set(older) - set(younger))
                if missing:
                    found.append("%s.%s: %s missing from the newer model" % (service, label, missing))
            elif isinstance(value, dict):
                # Lengths and ranges must agree; a pattern may widen between versions (new partitions).
                same_version = current["botocore"] == pinned["botocore"]
                keys = set(value) | set(now) if same_version else {"min", "max"}
                if any(value.get(k) != now.get(k) for k in keys):
                    found.append("%s.%s: pinned %s, installed %s" % (service, label, value, now))
            elif value != now and current["botocore"] == pinned["botocore"]:
                found.append("%s.%s: pinned %s, installed %s" % (service, label, value, now))
    return found


if __name__ == "__main__":
    current = extract()
    if "--check" in sys.argv:
        pinned = json.load(open("test/fixtures/botocore-limits.json"))
        found = disagreements(pinned, current)
        for line in found:
            print(line)
        print("pin (botocore %s) %s installed botocore %s" % (
            pinned["botocore"], "contradicts" if found else "agrees with", current["botocore"]))
        sys.exit(1 if found else 0)
    json.dump(current, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
