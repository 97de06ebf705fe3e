#!/usr/bin/env bash
# The predeploy step of a CI pipeline: lint the app folder, run its predeploy
# script, and publish what it wrote into ../mount to the app's mount on the
# platform. Both examples/ci/github-actions.yml and examples/ci/gitlab-ci.yml
# call this script, and tests/integration/test_predeploy_ci.sh runs it against
# a local de-server, so the pipelines run exactly what is tested.
#
# Credentials come from the CI's secret variables, never from a keyfile:
#   DASH_ENTERPRISE_HOST      e.g. https://dash.example.com
#   DASH_ENTERPRISE_USERNAME  the user that owns the app
#   DASH_ENTERPRISE_PASSWORD  that user's API key
# Settings:
#   DE_APP                the app's name on the platform (required)
#   DE_APP_DIR            the app folder, with project.toml (default: .)
#   DE_CLI                the de-cli binary (default: de-cli from PATH)
#   DE_PREDEPLOY_TIMEOUT  stop the script after this long (default: 30m)
set -euo pipefail

: "${DASH_ENTERPRISE_HOST:?set DASH_ENTERPRISE_HOST (a CI secret) to the platform URL}"
: "${DASH_ENTERPRISE_USERNAME:?set DASH_ENTERPRISE_USERNAME (a CI secret)}"
: "${DASH_ENTERPRISE_PASSWORD:?set DASH_ENTERPRISE_PASSWORD (a CI secret: the API key)}"
: "${DE_APP:?set DE_APP to the name of the app on the platform}"
APP_DIR=${DE_APP_DIR:-.}
DE_CLI=${DE_CLI:-de-cli}
TIMEOUT=${DE_PREDEPLOY_TIMEOUT:-30m}

# 1. The platform's rules: project.toml, the script, the Procfile, the mount folder.
"$DE_CLI" --no-keyfile predeploy --check "$APP_DIR"
# 2. Run the script (its output streams into the CI log) and, only if it
#    succeeds, push the mount folder. Nothing on the platform is deleted.
"$DE_CLI" --no-keyfile predeploy "$APP_DIR" --timeout "$TIMEOUT" --push -n "$DE_APP"
