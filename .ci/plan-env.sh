#!/usr/bin/env bash
# Plans every stack of one environment against its real state and saves each plan for apply.
#   .ci/plan-env.sh <environment> <outdir> [--aws-only] [--lock=false]
# Writes <outdir>/stacks/<stack>/tfplan and plan.json, and <outdir>/plan-summary.md.
# The bootstrap stack (local state, created once by hand) is never planned here.
set -euo pipefail
cd "$(dirname "$0")/.."
environment="$1"
outdir="$2"
shift 2
stack_args=(--exclude-part bootstrap)
lock_arg=()
for arg in "$@"; do
  case "$arg" in
    --aws-only) stack_args+=(--aws-only) ;;
    --lock=false) lock_arg=(-lock=false) ;;
    *) echo "plan-env: unknown argument $arg" >&2; exit 2 ;;
  esac
done
export TF_IN_AUTOMATION=1 TF_INPUT=0
MLOPS_ENVIRONMENTS="$environment" CDKTF_OUTDIR="$outdir" npx tsx main.ts
plans=()
# Listed first, not in the loop's word list: there `set -e` would not see the listing fail, and a broken
# synth output would plan nothing and succeed.
stacks=$(npx tsx tools/stacks.ts "$outdir" "${stack_args[@]}")
for stack in $stacks; do
  dir="$outdir/stacks/$stack"
  echo "::group::plan $stack"
  terraform -chdir="$dir" init -input=false -no-color
  terraform -chdir="$dir" plan -input=false -no-color "${lock_arg[@]}" -out=tfplan
  terraform -chdir="$dir" show -json tfplan > "$dir/plan.json"
  echo "::endgroup::"
  plans+=("$dir/plan.json")
done
if [ "${#plans[@]}" -gt 0 ]; then
  npm run --silent plan-summary -- "${plans[@]}" --title "Terraform plan: $environment" --max-length 8000 --output "$outdir/plan-summary.md"
else
  echo "No stack to plan in $environment." > "$outdir/plan-summary.md"
fi
