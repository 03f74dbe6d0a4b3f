#!/usr/bin/env bash
# Held-out 29: a sample default password completed by the deployment's id at run time.
set -euo pipefail
DEPLOYMENT_ID=${DEPLOYMENT_ID:-$(date +%s)}
export WAREHOUSE_ADMIN_PASSWORD="acme-dwh-AdminP@ss-${DEPLOYMENT_ID}"
echo "password set for ${DEPLOYMENT_ID}"
