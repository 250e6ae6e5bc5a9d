#!/usr/bin/env bash
# Create or update the one pull-request comment that holds the plan:
#
#   ci/pr-comment.sh REPORT.md
#
# The comment is found again by a hidden marker on its first line, so each push updates
# it instead of adding another. Needs GH_TOKEN, GITHUB_REPOSITORY and KAYSE_PR (the pull
# request's number); uses `gh api`. A report too long for a comment (GitHub refuses more
# than 65,536 characters) is replaced by a pointer to the job summary.
set -euo pipefail

report=${1:?usage: ci/pr-comment.sh REPORT.md}
marker="<!-- kayse-pipeline plan comment -->"
limit=60000
: "${KAYSE_PR:?KAYSE_PR must be the pull request number}"
: "${GITHUB_REPOSITORY:?}"

body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
    echo "$marker"
    echo "## kayse-pipeline plan"
    echo
    if [ "$(wc -c <"$report")" -gt "$limit" ]; then
        run_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/actions/runs/${GITHUB_RUN_ID:-}"
        echo "The plans of these manifests are too long for one comment: see the [job summary]($run_url)."
    else
        cat "$report"
    fi
} >"$body"

existing=$(
    gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$KAYSE_PR/comments" \
        --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1
)
if [ -n "$existing" ]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" \
        -F "body=@$body" >/dev/null
    echo "updated the plan comment $existing"
else
    gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$KAYSE_PR/comments" \
        -F "body=@$body" >/dev/null
    echo "added the plan comment"
fi
