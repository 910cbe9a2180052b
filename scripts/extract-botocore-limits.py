#!/usr/bin/env python3
"""Pins the botocore service-model values test/unit/aws-infra-schema.test.ts checks infra/aws against.

Run: python3 scripts/extract-botocore-limits.py > test/fixtures/botocore-limits.json && npm run format
     python3 scripts/extract-botocore-limits.py --check   (exit 1 if the pin differs from the installed model)
It reads the botocore that `import botocore` finds (pip's awscli/botocore; Debian's python3-botocore is
older and lacks nodejs22.x in lambda's Runtime enum, so it cannot confirm the pin).
"""
import json
import sys
import botocore.loaders

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


def extract():
    loader = botocore.loaders.Loader()
    out = {"botocore": botocore.__version__, "services": {}}
    for service, picks in PICK.items():
        model = loader.load_service_model(service, "service-2")
        entry = {"apiVersion": model["metadata"]["apiVersion"]}
        for label, (shape_name, what) in picks.items():
            shape = model["shapes"][shape_name]
            if what == "enum":
                entry[label] = sorted(shape["enum"])
            else:
                entry[label] = {k: shape[k] for k in ("min", "max", "pattern") if k in shape}
        out["services"][service] = entry
    return out


if __name__ == "__main__":
    current = extract()
    if "--check" in sys.argv:
        pinned = json.load(open("test/fixtures/botocore-limits.json"))
        same = {k: v for k, v in pinned.items() if k != "botocore"} == {k: v for k, v in current.items() if k != "botocore"}
        print("pin matches botocore %s" % current["botocore"] if same else "pin differs from botocore %s" % current["botocore"])
        sys.exit(0 if same else 1)
    json.dump(current, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
