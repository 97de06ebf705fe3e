#!/usr/bin/env bash
# The app a command acts on without -n: in the platform's layout
# (my-project/app beside my-project/mount, or a folder holding project.toml
# with mount/ beside it) the project folder's name; elsewhere the current
# folder's name. Messages using a defaulted name say where it came from;
# apps create needs -n.
source "$(dirname "$0")/harness.sh"

start_server
KEY=$(add_user alice)
export DASH_ENTERPRISE_HOST="$SERVER_URL" DASH_ENTERPRISE_USERNAME=alice DASH_ENTERPRISE_PASSWORD="$KEY"
cli() { "$DE_CLI" --no-keyfile "$@" </dev/null; }

P="$T/my-project"
mkdir -p "$P/app" "$P/mount"
cat >"$P/app/project.toml" <<'TOML'
[scripts]
predeploy = "fetch.sh"
TOML
echo 'echo data > ../mount/d.txt' >"$P/app/fetch.sh"
echo 'web: python app.py' >"$P/app/Procfile"

cd "$P/app"
# apps create never takes a name from the folder.
expect_rc 2 cli apps create
assert_contains "$ERR" "apps create names a new app, so it needs the name: pass -n APP"
expect_rc 3 cli apps exists
# The default is the project folder's, and a not-found error says where it came from.
expect_rc 3 cli ls
assert_contains "$ERR" "'my-project' (from the project folder $P; pass -n to choose)"
assert_not_contains "$ERR" "'app'"
expect_rc 0 cli apps create -n my-project
expect_rc 0 cli mount enable
assert_contains "$ERR" "Persistent filesystem of 'my-project' is on"
# predeploy --dry-run --push names the app and its origin.
expect_rc 0 cli predeploy --dry-run --push
assert_contains "$OUT" "would then push $P/mount to the mount of 'my-project' (from the project folder $P; pass -n to choose)"
expect_rc 0 cli predeploy --push
[[ -f "$SERVER_ROOT/apps/my-project/mount/d.txt" ]] || fail "predeploy --push went elsewhere"

# A folder holding project.toml with mount/ beside it, whatever its name.
Q="$T/sales"
mkdir -p "$Q/dash" "$Q/mount"
cp "$P/app/project.toml" "$Q/dash/"
cd "$Q/dash"
expect_rc 3 cli mount status
assert_contains "$ERR" "'sales' (from the project folder $Q"
# -n wins, with no origin text.
expect_rc 0 cli mount status -n my-project
expect_rc 3 cli mount status -n nope
assert_not_contains "$ERR" "pass -n to choose"

# Outside the layout: the current folder's name, said so.
mkdir -p "$T/plain/reports"
cd "$T/plain/reports"
expect_rc 3 cli ls
assert_contains "$ERR" "'reports' (from the current folder $T/plain/reports; pass -n to choose)"
# An invalid default name says which folder it came from.
mkdir -p "$T/Bad_Name"
cd "$T/Bad_Name"
expect_rc 2 cli ls
assert_contains "$ERR" "no app given, and the name 'Bad_Name' (from the current folder $T/Bad_Name)"

finish
