#!/usr/bin/env bash
# The GitHub Action's work, testable without GitHub:
#
#   ci/action.sh plan|apply
#
# Reads (from the action's inputs): KAYSE_MANIFESTS (one or more globs, space or newline
# separated), KAYSE_BATCH_SIZE, KAYSE_MAX_WAIT, KAYSE_INPUT_API_URL, KAYSE_INPUT_API_KEY,
# KAYSE_REPORT (Markdown report file), KAYSE_JUNIT_DIR (apply: JUnit reports).
# plan: validates every manifest, plans each one, writes the Markdown report; exits 1 only
# on errors (a plan with changes is not an error). apply: applies each manifest with its
# own state; a signal (the job cancelled) is passed on to the running apply exactly once,
# so that it stops gracefully, and no further manifest is started.
# Writes `changes=true|false` and `failed=true|false` to $GITHUB_OUTPUT when it is set.
set -euo pipefail

command=${1:?usage: ci/action.sh plan|apply}
tool=${KAYSE_PIPELINE:-kayse-pipeline}
report=${KAYSE_REPORT:-kayse-report.md}
junit_dir=${KAYSE_JUNIT_DIR:-kayse-junit}
output=${GITHUB_OUTPUT:-/dev/null}

if [ -n "${KAYSE_INPUT_API_KEY:-}" ]; then
    export KAYSE_API_KEY="$KAYSE_INPUT_API_KEY"
fi
if [ -n "${KAYSE_INPUT_API_URL:-}" ]; then
    export KAYSE_API_URL="$KAYSE_INPUT_API_URL"
fi
options=(--batch-size "${KAYSE_BATCH_SIZE:-100}" --max-wait "${KAYSE_MAX_WAIT:-3600}")

shopt -s nullglob globstar
manifests=()
read -r -d '' -a patterns <<<"${KAYSE_MANIFESTS:-recipes/*.yaml}" || true
for pattern in "${patterns[@]}"; do
    # Each pattern is a glob to expand, as the action's input documents.
    # shellcheck disable=SC2206
    matches=($pattern)
    manifests+=("${matches[@]}")
done
if [ "${#manifests[@]}" -eq 0 ]; then
    echo "::error::no manifest matches '${KAYSE_MANIFESTS:-recipes/*.yaml}'" >&2
    exit 1
fi

: >"$report"
failed=false
changes=false

# Runs the tool in its own session, so that only this script passes a signal on: once.
child=""
stopping=false
forward() {
    stopping=true
    if [ -n "$child" ]; then
        kill -s "$1" "$child" 2>/dev/null || true
    fi
}
trap 'forward INT' INT
trap 'forward TERM' TERM
run() {
    setsid "$@" &
    child=$!
    local code=0
    while true; do
        code=0
        wait "$child" || code=$?
        if ! kill -0 "$child" 2>/dev/null; then
            break
        fi
    done
    child=""
    return "$code"
}

case "$command" in
plan)
    run "$tool" validate "${manifests[@]}" || {
        echo "::error::validation failed" >&2
        exit 1
    }
    for manifest in "${manifests[@]}"; do
        code=0
        run "$tool" plan "$manifest" "${options[@]}" --output markdown --detailed-exitcode \
            >>"$report" || code=$?
        case "$code" in
        0) ;;
        2) changes=true ;;
        *)
            failed=true
            printf '\n> [!CAUTION]\n> The plan of %s failed (exit %s): see the job log.\n\n' \
                "$manifest" "$code" >>"$report"
            ;;
        esac
        $stopping && break
    done
    ;;
apply)
    mkdir -p "$junit_dir"
    for manifest in "${manifests[@]}"; do
        name=$(printf '%s' "$manifest" | tr -c 'A-Za-z0-9._-' '_')
        code=0
        run "$tool" apply "$manifest" "${options[@]}" --output markdown \
            --junit "$junit_dir/$name.xml" >>"$report" || code=$?
        if [ "$code" -ne 0 ]; then
            failed=true
            echo "::error::apply of $manifest exited $code" >&2
        fi
        $stopping && break
    done
    ;;
*)
    echo "usage: ci/action.sh plan|apply" >&2
    exit 1
    ;;
esac

echo "changes=$changes" >>"$output"
echo "failed=$failed" >>"$output"
if $failed; then
    exit 1
fi
