#!/bin/bash
# The runner's job-started hook (ACTIONS_RUNNER_HOOK_JOB_STARTED): only the swarm's experiment
# workflow, from its default branch, started by workflow_dispatch (the App), may run on this
# runner. Anything else (a pull request's own workflow with `runs-on: [self-hosted,
# autoresearch]`, a push or schedule workflow, experiment.yml from another branch) fails here,
# before its first step. The runner runs this with `bash -e`; a non-zero exit fails the job.
# `runner join` (runner/hook.ts) and the ARC image (runner/arc/Dockerfile) fill in the three
# values below; a job cannot change them (they are not read from its environment).
set -u
SWARM_REPO='@SWARM_REPO@'
WORKFLOW_FILE='@WORKFLOW_FILE@'
NODE='@NODE@'

# A failed hook fails the job but does not stop it: the runner still runs each later step whose
# `if:` holds on a failed job (`always()`, `failure()`, an action's `pre-if`, post steps;
# actions/runner#2811). So a refusal also ends the job's Runner.Worker, this hook's parent (after a
# second, for the error line to reach the job's log): no step of the job runs, and the job fails.
stop_job() {
  local parent
  parent=$(cat "/proc/$PPID/comm" 2>/dev/null || ps -o comm= -p "$PPID" 2>/dev/null || true)
  case "$parent" in
    Runner.Worker | */Runner.Worker) sleep 1; kill -KILL "$PPID" 2>/dev/null || true ;;
  esac
}

refuse() {
  echo "::error title=Not an autoresearch experiment::$1 This runner only runs ${SWARM_REPO}/.github/workflows/${WORKFLOW_FILE} of the default branch, dispatched by the swarm's App."
  stop_job
  exit 1
}

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

[ "$(lower "${GITHUB_REPOSITORY:-}")" = "$(lower "$SWARM_REPO")" ] || refuse "The job belongs to ${GITHUB_REPOSITORY:-an unknown repository}."
[ "${GITHUB_EVENT_NAME:-}" = workflow_dispatch ] || refuse "The job was started by ${GITHUB_EVENT_NAME:-an unknown event}, not workflow_dispatch."
# The default branch from GitHub's event payload (never from the job's own environment).
branch=$("$NODE" -e 'const e = JSON.parse(require("fs").readFileSync(process.env.GITHUB_EVENT_PATH, "utf8")); process.stdout.write(String(e.repository.default_branch))' 2>/dev/null) ||
  refuse "The job's event payload (GITHUB_EVENT_PATH) could not be read."
want="${GITHUB_REPOSITORY}/.github/workflows/${WORKFLOW_FILE}@refs/heads/${branch}"
[ "${GITHUB_WORKFLOW_REF:-}" = "$want" ] || refuse "The job's workflow is ${GITHUB_WORKFLOW_REF:-unknown}, not ${want}."
echo "autoresearch: ${GITHUB_WORKFLOW_REF} may run here."
