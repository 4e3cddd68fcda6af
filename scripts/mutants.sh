#!/usr/bin/env bash
# The mutation suite: applies each small, realistic bug in scripts/mutants/ to the working tree in
# turn, builds incrementally, runs the tests, and reports whether the tests caught it.
#
#   scripts/mutants.sh                 every mutant
#   scripts/mutants.sh NAME...         only these (file names without .mutant)
#   scripts/mutants.sh --check         only check that every mutant still applies (no build)
#
# Run it before submitting changes to Shared, the stores, the syncer or the replica, with
# CASEBOOK_TEST_DATABASE_URL set so the PostgreSQL mutants can be caught. The fast unit targets
# run first; the end-to-end target only when they all pass. One line per mutant: `killed` with
# the first failing test, `SURVIVED`, or `STALE` when its search text is no longer in the file
# exactly once (update the mutant in the same change as the refactor that moved the code).
# Exits 1 when any mutant survived, is stale or does not compile.
#
# A mutant file: a `#` line saying what the bug is, `file: PATH`, then the exact text to find
# between `<<<<<<< search` and `=======`, and its replacement up to `>>>>>>> replace`. Text is
# matched exactly, without line numbers, so unrelated edits to the file do not break it.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mutants_dir=scripts/mutants
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/casebook-mutants.XXXXXX")

original_file=""
backup=""
restore() {
    if [[ -n $original_file && -n $backup && -f $backup ]]; then
        cp "$backup" "$original_file"  # a new mtime, so the next build sees the file changed back
        rm -f "$backup"
    fi
    original_file=""
    backup=""
}
trap 'restore; rmdir "$log_dir" 2>/dev/null' EXIT  # the log folder goes when nothing was logged
trap 'restore; echo; echo "interrupted: the working tree is restored"; exit 130' INT TERM

# Reads a mutant into $m_file, $m_search, $m_replace; returns 1 when it is malformed.
parse() {
    local line state=header
    m_file="" m_search="" m_replace=""
    local search_lines=() replace_lines=()
    while IFS= read -r line || [[ -n $line ]]; do
        case $state in
        header)
            if [[ $line == "file: "* ]]; then m_file=${line#file: }
            elif [[ $line == "<<<<<<< search" ]]; then state=search
            fi ;;
        search)
            if [[ $line == "=======" ]]; then state=replace; else search_lines+=("$line"); fi ;;
        replace)
            if [[ $line == ">>>>>>> replace" ]]; then state=done; else replace_lines+=("$line"); fi ;;
        esac
    done <"$1"
    [[ $state == done && -n $m_file && ${#search_lines[@]} -gt 0 ]] || return 1
    m_search=$(printf '%s\n' "${search_lines[@]}")
    m_replace=$(printf '%s\n' "${replace_lines[@]+"${replace_lines[@]}"}")
    m_search=${m_search%$'\n'}
    m_replace=${m_replace%$'\n'}
}

# Prints the file's text with the search text replaced; returns 1 unless it occurs exactly once.
mutated() {
    local content
    content=$(cat "$m_file"; printf x)
    content=${content%x}
    [[ $content == *"$m_search"* ]] || return 1
    local rest=${content#*"$m_search"}
    [[ $rest != *"$m_search"* ]] || return 1
    printf '%s' "${content/"$m_search"/"$m_replace"}"
}

# The first failing test in a test log, or the last lines when none is named (a crash).
first_failure() {
    local name
    name=$(grep -m1 -oE '✘ Test [^ ]+' "$1" | sed 's/✘ Test //')
    if [[ -n $name ]]; then echo "$name"; return; fi
    name=$(grep -m1 -E 'error:|Fatal error|signal|crash' "$1" | cut -c1-120)
    echo "${name:-the test run failed}"
}

check_only=false
selected=()
for arg in "$@"; do
    if [[ $arg == --check ]]; then check_only=true; else selected+=("$mutants_dir/${arg%.mutant}.mutant"); fi
done
if [[ ${#selected[@]} -eq 0 ]]; then selected=("$mutants_dir"/*.mutant); fi

killed=0 survived=0 stale=0 broken=0
for mutant in "${selected[@]}"; do
    name=$(basename "$mutant" .mutant)
    if [[ ! -f $mutant ]] || ! parse "$mutant" || [[ ! -f $m_file ]]; then
        printf '%-45s STALE (no such mutant, malformed, or its file is gone)\n' "$name"; stale=$((stale + 1)); continue
    fi
    if ! text=$(mutated); then
        printf '%-45s STALE (search text not found exactly once in %s)\n' "$name" "$m_file"; stale=$((stale + 1)); continue
    fi
    if $check_only; then printf '%-45s applies\n' "$name"; continue; fi

    original_file=$m_file
    backup=$(mktemp "$log_dir/original.XXXXXX")
    cp -p "$m_file" "$backup"
    printf '%s' "$text" >"$m_file"
    log="$log_dir/$name"
    if ! swift build --build-tests >"$log.build" 2>&1; then
        printf '%-45s BROKEN (does not compile: fix the mutant; see %s.build)\n' "$name" "$log"; broken=$((broken + 1))
    elif ! swift test --skip-build --filter 'SharedTests|ServerTests|ClientTests' >"$log.unit" 2>&1; then
        printf '%-45s killed by %s\n' "$name" "$(first_failure "$log.unit")"; killed=$((killed + 1))
    elif ! swift test --skip-build --filter 'EndToEndTests' >"$log.e2e" 2>&1; then
        printf '%-45s killed by %s (end-to-end)\n' "$name" "$(first_failure "$log.e2e")"; killed=$((killed + 1))
    else
        printf '%-45s SURVIVED\n' "$name"; survived=$((survived + 1))
    fi
    restore
done

total=${#selected[@]}
if $check_only; then
    echo "$((total - stale)) of $total mutants apply, $stale stale"
else
    echo "$total mutants: $killed killed, $survived survived, $stale stale, $broken broken (logs in $log_dir)"
fi
[[ $survived -eq 0 && $stale -eq 0 && $broken -eq 0 ]]
