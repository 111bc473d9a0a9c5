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
# Who started it: the event's sender (the dispatcher), or GITHUB_TRIGGERING_ACTOR for a re-run. Any
# writer of the repository can dispatch the workflow or re-run one of the App's runs; the App
# ignores such a run (app/starts.ts), so only an App's bot may use this machine (never a person,
# nor github-actions[bot], a workflow's GITHUB_TOKEN).
sender=$("$NODE" -e 'const e = JSON.parse(require("fs").readFileSync(process.env.GITHUB_EVENT_PATH, "utf8")); const s = e.sender || {}; process.stdout.write(s.type === "Bot" && /^[A-Za-z0-9-]+\[bot\]$/.test(s.login) ? s.login : "-" + String(s.login || ""))' 2>/dev/null) || sender="-"
starter="${GITHUB_TRIGGERING_ACTOR:-${sender#-}}"
if [ "${sender#-}" != "$sender" ] || [ "$sender" = "github-actions[bot]" ] || [ "$starter" != "$sender" ]; then
  refuse "The job was started by ${starter:-an unknown account}, not by an App."
fi
echo "autoresearch: ${GITHUB_WORKFLOW_REF} may run here."
