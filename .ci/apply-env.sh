#!/usr/bin/env bash
# Applies the saved plans of one environment, stack by stack in dependency order: exactly what was
# reviewed. Terraform refuses a plan that is stale (state changed since it was made).
#   .ci/apply-env.sh <outdir>
set -euo pipefail
cd "$(dirname "$0")/.."
outdir="$1"
export TF_IN_AUTOMATION=1 TF_INPUT=0
# Listed first, not in the loop's word list: there `set -e` would not see the listing fail, and a missing or
# broken output would apply nothing and succeed.
stacks=$(npx tsx tools/stacks.ts "$outdir" --exclude-part bootstrap)
for stack in $stacks; do
  dir="$outdir/stacks/$stack"
  if [ ! -f "$dir/tfplan" ]; then
    echo "apply-env: $stack has no saved plan; it was not planned, so it is not applied" >&2
    continue
  fi
  echo "::group::apply $stack"
  terraform -chdir="$dir" init -input=false -no-color
  terraform -chdir="$dir" apply -input=false -no-color tfplan
  echo "::endgroup::"
done
