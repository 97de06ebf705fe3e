#!/usr/bin/env bash
# The CI pipelines' predeploy step, run as the pipelines run it, against a
# local de-server: examples/ci/predeploy-ci.sh from the root of a checkout,
# with DE_APP and DE_APP_DIR as both pipeline files set them and the
# DASH_ENTERPRISE_* variables in place of the CI secrets (no keyfile).
source "$(dirname "$0")/harness.sh"

CI_DIR="$DE_SOURCE_DIR/examples/ci"
GH="$CI_DIR/github-actions.yml"
GL="$CI_DIR/gitlab-ci.yml"

# --- both pipelines call the shared step with the same settings and the secrets ---
yaml_value() { sed -n "s/^ *$2: *\([^ #]*\).*/\1/p" "$1" | head -n1; }
for f in "$GH" "$GL"; do
    assert_contains "$(cat "$f")" "examples/ci/predeploy-ci.sh" \
        "$(basename "$f") runs the shared step"
    assert_contains "$(cat "$f")" "--target de-cli" "$(basename "$f") builds de-cli"
done
for v in DASH_ENTERPRISE_HOST DASH_ENTERPRISE_USERNAME DASH_ENTERPRISE_PASSWORD; do
    assert_contains "$(cat "$GH")" "$v: \${{ secrets.$v }}" "GitHub passes the $v secret"
    assert_contains "$(cat "$GL")" "$v" "GitLab documents the $v variable"
done
DE_APP=$(yaml_value "$GH" DE_APP)
DE_APP_DIR=$(yaml_value "$GH" DE_APP_DIR)
assert_eq "$(yaml_value "$GL" DE_APP)" "$DE_APP" "both pipelines push the same app"
assert_eq "$(yaml_value "$GL" DE_APP_DIR)" "$DE_APP_DIR" "both pipelines use the same app folder"
assert_contains "$(cat "$CI_DIR/predeploy-ci.sh")" \
    '--no-keyfile predeploy "$APP_DIR" --timeout "$TIMEOUT" --push -n "$DE_APP"'
if python3 -c 'import yaml' 2>/dev/null; then
    for f in "$GH" "$GL"; do
        CHECKS=$((CHECKS + 1))
        python3 -c 'import sys,yaml; yaml.safe_load(open(sys.argv[1]))' "$f" ||
            fail "$f is not valid YAML"
    done
fi

# --- the platform: a user whose app has its mount on ---
start_server
KEY=$(add_user ci-bot)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=ci-bot \
    DASH_ENTERPRISE_PASSWORD="$KEY"
expect_rc 0 "$DE_CLI" --no-keyfile apps create -n "$DE_APP"
expect_rc 0 "$DE_CLI" --no-keyfile apps update -n "$DE_APP" --persistent-filesystem
REMOTE="$SERVER_ROOT/apps/$DE_APP/mount"

# --- a fresh checkout of the repository (what the CI job starts from) ---
CO="$T/checkout"
mkdir -p "$CO"
cp -r "$DE_SOURCE_DIR/examples" "$CO/examples"
cp "$DE_SOURCE_DIR/.gitignore" "$CO/.gitignore"
rm -rf "$CO/examples/my-project/mount"/*
git init -q "$CO"
cd "$CO"

# --- the step, exactly as the pipelines run it ---
export DE_APP DE_APP_DIR DE_CLI
expect_rc 0 examples/ci/predeploy-ci.sh
assert_contains "$OUT$ERR" "fetchdata: wrote 9 files"
LOCAL="$CO/$(dirname "$DE_APP_DIR")/mount"
# The checkout's mount folder may hold a tracked placeholder (.gitkeep): it is pushed too.
N=$(find "$LOCAL" -type f | wc -l)
assert_contains "$ERR" "predeploy: pushed $N file"
tree() { (cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r p; do
    echo "$p $(stat -c %s "$p") $(sha256sum <"$p" | cut -c1-64)"; done); }
assert_eq "$(tree "$REMOTE" | grep -c '^data/')" "9" "the app's mount has the script's nine files"
assert_eq "$(tree "$REMOTE")" "$(tree "$LOCAL")" "the app's mount equals what the script wrote"
assert_eq "$(find "$HOME" -type f | wc -l)" "0" "no keyfile written in CI"

# A second pipeline run works too (the data is refreshed, nothing is deleted).
echo "kept" >"$REMOTE/from-the-app.txt"
expect_rc 0 examples/ci/predeploy-ci.sh
assert_eq "$(cat "$REMOTE/from-the-app.txt")" "kept" "the pipeline never deletes from the mount"

# --- what a misconfigured pipeline sees ---
expect_rc 1 env -u DASH_ENTERPRISE_PASSWORD examples/ci/predeploy-ci.sh
assert_contains "$ERR" "DASH_ENTERPRISE_PASSWORD"
DASH_ENTERPRISE_PASSWORD=wrong expect_rc 4 examples/ci/predeploy-ci.sh
DE_APP=not-my-app expect_rc 3 examples/ci/predeploy-ci.sh
# A broken app folder fails the --check step before anything runs.
printf 'web gunicorn\n' >"$DE_APP_DIR/Procfile"
expect_rc 1 examples/ci/predeploy-ci.sh
assert_contains "$OUT" "Procfile:1:1: error"
assert_not_contains "$OUT$ERR" "fetchdata: wrote"

finish
