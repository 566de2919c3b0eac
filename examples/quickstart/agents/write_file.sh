#!/bin/sh
# write_file.sh PROMPT_FILE WORKSPACE
#
# The quickstart's stand-in for a coding agent: no network, no API key.
# It reads the prompt that `score run` wrote for the part and follows two
# kinds of directive lines, which the part's brief carries into the prompt:
#
#   @file out/backend/notes.md          the file to write, relative to WORKSPACE
#   @output notes=out/backend/notes.md  one output of the part (repeatable)
#
# It writes the file (a short header followed by the prompt it received,
# quoted) and then the outputs as a JSON object to the file named by the
# SCORE_OUTPUT environment variable, or to stdout when that is not set.
# SCORE_TASK, when set, names the task in the file's header.
#
# Directive lines may be indented or quoted with `>`; the first `@file` wins,
# and for each output name the first `@output` wins.

set -eu

me="write_file.sh"

if [ "$#" -ne 2 ]; then
  echo "$me: usage: $me PROMPT_FILE WORKSPACE" >&2
  exit 2
fi
prompt_file=$1
workspace=$2

if [ ! -r "$prompt_file" ]; then
  echo "$me: cannot read the prompt file '$prompt_file'" >&2
  exit 2
fi
if [ ! -d "$workspace" ]; then
  echo "$me: the workspace '$workspace' is not a directory" >&2
  exit 2
fi

# The first `@file PATH` line, with any indentation, `>` quoting and trailing
# blanks removed.
target=$(awk '
  { line = $0; sub(/^[ \t>]*/, "", line); sub(/[ \t\r]*$/, "", line) }
  line ~ /^@file[ \t]/ { sub(/^@file[ \t]+/, "", line); print line; exit }
' "$prompt_file")

if [ -z "$target" ]; then
  echo "$me: the prompt has no '@file PATH' line; add one to the part's brief" >&2
  exit 2
fi

# Only workspace-relative paths that stay inside the workspace.
case "$target" in
  /*)
    echo "$me: '@file $target' is absolute; give a path relative to the workspace" >&2
    exit 2
    ;;
esac
case "/$target/" in
  */../*)
    echo "$me: '@file $target' leaves the workspace through '..'" >&2
    exit 2
    ;;
esac

# The outputs as one JSON object. Values are paths and short texts; rather
# than escape a quote or a backslash differently in each awk, refuse them.
outputs=$(awk '
  { line = $0; sub(/^[ \t>]*/, "", line); sub(/[ \t\r]*$/, "", line) }
  line ~ /^@output[ \t]/ {
    sub(/^@output[ \t]+/, "", line)
    eq = index(line, "=")
    if (eq == 0) { bad = bad "\n  missing \"=\" in: @output " line; next }
    key = substr(line, 1, eq - 1); val = substr(line, eq + 1)
    sub(/[ \t]*$/, "", key); sub(/^[ \t]*/, "", val)
    if (key !~ /^[A-Za-z_][A-Za-z0-9_]*$/) { bad = bad "\n  not a name: " key; next }
    if (val ~ /["\\]/) { bad = bad "\n  quote or backslash in the value of " key; next }
    if (key in seen) next
    seen[key] = 1
    out = out sep "\"" key "\": \"" val "\""
    sep = ", "
  }
  END {
    if (bad != "") { print "bad @output lines:" bad > "/dev/stderr"; exit 1 }
    print "{" out "}"
  }
' "$prompt_file") || {
  echo "$me: fix the @output lines of the part's brief" >&2
  exit 2
}

task=${SCORE_TASK:-task}
dest="$workspace/$target"
mkdir -p "$(dirname "$dest")"
{
  printf '# %s\n\n' "$task"
  printf 'Written by agents/write_file.sh, the quickstart stand-in for a coding agent.\n'
  printf 'This is the prompt it received:\n\n'
  sed 's/^/> /' "$prompt_file"
} > "$dest"

if [ -n "${SCORE_OUTPUT:-}" ]; then
  printf '%s\n' "$outputs" > "$SCORE_OUTPUT"
else
  printf '%s\n' "$outputs"
fi
echo "$me: wrote $target" >&2
