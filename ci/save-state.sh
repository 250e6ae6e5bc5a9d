#!/usr/bin/env bash
# Save kayse-pipeline state files to git, from the recipe repository's root:
#
#   ci/save-state.sh [FILE...]        (default: every changed or new *.state.json)
#
# 1. folds any journal a killed run (SIGKILL) left beside a state file into it, offline
#    (`kayse-pipeline state fold`), so that what is committed holds every ID;
# 2. commits those state files alone, with "[skip ci]" so that the push starts no run;
# 3. pushes, and when the push is refused (another commit landed), `git pull --rebase`
#    and tries again, with a bounded, jittered backoff.
#
# The commit only touches state files. If the rebase finds the same state file changed
# on the remote (another apply of the same recipe ran at the same time, which the
# workflow's concurrency group should prevent), nothing is merged by guesswork: the
# rebase is aborted, the local commit and files are kept, and the script fails.
# It exits non-zero whenever the state did not land on the remote.
#
# Environment (all optional):
#   KAYSE_PIPELINE        the command to run (default: kayse-pipeline)
#   KAYSE_SAVE_REMOTE     the remote (default: origin)
#   KAYSE_SAVE_BRANCH     the branch to push to (default: the current branch)
#   KAYSE_SAVE_ATTEMPTS   push attempts (default: 6)
#   KAYSE_SAVE_BACKOFF    first wait in seconds, doubled each time, at most 30 (default: 2)
#   KAYSE_SAVE_MESSAGE    the commit message (default: "kayse-pipeline: save state [skip ci]")
set -euo pipefail

tool=${KAYSE_PIPELINE:-kayse-pipeline}
remote=${KAYSE_SAVE_REMOTE:-origin}
attempts=${KAYSE_SAVE_ATTEMPTS:-6}
backoff=${KAYSE_SAVE_BACKOFF:-2}
message=${KAYSE_SAVE_MESSAGE:-"kayse-pipeline: save state [skip ci]"}

say() { printf 'save-state: %s\n' "$*" >&2; }
fail() {
    say "error: $*"
    exit 1
}

branch=${KAYSE_SAVE_BRANCH:-$(git symbolic-ref --quiet --short HEAD || true)}
[ -n "$branch" ] || fail "HEAD is not on a branch: set KAYSE_SAVE_BRANCH"

# The state files: as given, else every state file git sees as changed or new, plus any
# state whose journal a killed run left (its file may not have changed yet).
files=()
if [ "$#" -gt 0 ]; then
    files=("$@")
else
    while IFS= read -r -d '' path; do
        files+=("$path")
    done < <(
        {
            git ls-files -z --modified --others --exclude-standard -- '*.state.json'
            git ls-files -z --others --ignored --exclude-standard -- '*.state.json.journal' |
                sed -z 's/\.journal$//'
        } | sort -zu
    )
fi

# 1. Fold what a SIGKILL left in a journal (offline: no key, no network).
journalled=()
present=()
for path in "${files[@]}"; do
    if [ -e "$path.journal" ]; then
        journalled+=("$path")
    fi
done
if [ "${#journalled[@]}" -gt 0 ]; then
    "$tool" state fold -- "${journalled[@]}" ||
        fail "could not fold the journal of ${journalled[*]}: the journal still holds the IDs"
fi

# 2. Commit the state files alone.
for path in "${files[@]}"; do
    if [ -e "$path" ]; then
        present+=("$path")
    else
        say "warning: $path does not exist; skipped"
    fi
done
if [ "${#present[@]}" -gt 0 ]; then
    git add -- "${present[@]}"
    if git diff --cached --quiet -- "${present[@]}"; then
        say "the state files are already committed"
    else
        git commit --quiet --only -m "$message" -- "${present[@]}"
        say "committed ${present[*]}"
    fi
fi

# Nothing to push when the remote branch already has every local commit (a save that
# failed to push earlier left one: it is pushed now).
if git fetch --quiet "$remote" "$branch" && [ "$(git rev-list --count FETCH_HEAD..HEAD)" -eq 0 ]; then
    say "nothing to save: $remote/$branch has every state commit"
    exit 0
fi
pending=$(git diff --name-only FETCH_HEAD HEAD -- '*.state.json' 2>/dev/null | tr '\n' ' ' || true)

# 3. Push; on refusal rebase onto the remote branch and try again.
wait_for=$backoff
for ((attempt = 1; attempt <= attempts; attempt++)); do
    if git push --quiet "$remote" "HEAD:refs/heads/$branch"; then
        say "pushed to $remote/$branch (attempt $attempt)"
        exit 0
    fi
    if ((attempt == attempts)); then
        break
    fi
    say "push refused (attempt $attempt of $attempts); rebasing onto $remote/$branch"
    if git fetch --quiet "$remote" "$branch" && ! git rebase --quiet --autostash FETCH_HEAD; then
        conflicted=$(git diff --name-only --diff-filter=U || true)
        git rebase --abort || true
        fail "the remote changed the same state file(s) (${conflicted//$'\n'/ }): another apply of this recipe ran at the same time. Nothing was merged; the local commit and files keep every ID. Resolve by hand (or re-run the apply after the other one), then push."
    fi
    sleep "$((wait_for + RANDOM % (wait_for + 1)))"
    wait_for=$((wait_for * 2 > 30 ? 30 : wait_for * 2))
done
fail "could not push the state to $remote/$branch after $attempts attempts; the local commit $(git rev-parse --short HEAD) keeps every ID in: ${pending:-${present[*]}}"
