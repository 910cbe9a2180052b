#!/usr/bin/env bash
# Drives the fake ACR (test/support/fake-acr.ts) with an independent client: the Azure SDK for
# Python's azure.containerregistry from Debian's python3-azure. Kept out of `npm test`: python3-azure
# and its 32 dependencies download 14 MB and install about 550 MB (measured with apt-get -s on
# Debian 12), too much for every CI run. Run it by hand after changing the fake:
#   bash scripts/check-acr-fake-python.sh            (installs python3-azure if missing: needs root)
# It lists repositories (paged), manifest and tag properties with their lock attributes, deletes
# a tag and a manifest, and expects 405 from a write-locked manifest and a delete-locked tag.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import azure.containerregistry' 2>/dev/null; then
  echo "installing python3-azure (about 550 MB)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-azure >&2
fi
coproc FAKE { exec npx tsx scripts/serve-fake-acr.ts; }
trap 'exec {FAKE[1]}>&-; wait "$FAKE_PID" 2>/dev/null || true' EXIT
read -r started <&"${FAKE[0]}"
FAKE_ACR="$started" /usr/bin/python3 - <<'PY'
import json, os, sys, time
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.containerregistry import ContainerRegistryClient

info = json.loads(os.environ["FAKE_ACR"])

class FakeCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken(info["token"], int(time.time()) + 3600)

client = ContainerRegistryClient(info["endpoint"], FakeCredential(), audience="https://containerregistry.azure.net",
                                 connection_verify=info["caFile"])
failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

names = list(client.list_repository_names(results_per_page=2))
check(names == ["python/app"] + [f"python/repo{i}" for i in range(5)], f"catalog across pages: {names}")
manifests = list(client.list_manifest_properties("python/app", results_per_page=2))
check(len(manifests) == 5, f"{len(manifests)} manifests across pages")
write_locked = [m for m in manifests if m.tags == ["v2"]][0]
check(write_locked.can_write is False and write_locked.can_delete is True, "manifest writeEnabled false, deleteEnabled true")
index = [m for m in manifests if m.tags == ["v1"]][0]
check(len(index.related_artifacts) == 2, "index lists its two platform manifests")
tags = {t.name: t for t in client.list_tag_properties("python/app")}
check(tags["old"].can_delete is False and tags["v3"].can_delete is True, "tag attributes are the tag's own")
try:
    client.delete_manifest("python/app", write_locked.digest)
    check(False, "delete of a write-locked manifest refused")
except HttpResponseError as error:
    check(error.status_code == 405 and "REGISTRY_DISALLOWED_OPERATION" in str(error), f"locked delete: 405 {error.message}")
try:
    client.delete_tag("python/app", "old")
    check(False, "delete of a delete-locked tag refused")
except HttpResponseError as error:
    check(error.status_code == 405, "delete-locked tag: 405")
client.delete_tag("python/app", "v3")
check("v3" not in {t.name for t in client.list_tag_properties("python/app")}, "tag deleted")
client.delete_manifest("python/app", index.digest)
check(index.digest not in {m.digest for m in client.list_manifest_properties("python/app")}, "manifest deleted")
sys.exit(1 if failures else 0)
PY
