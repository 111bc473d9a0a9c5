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

refuse() {
  echo "::error title=Not an autoresearch experiment::$1 This runner only runs ${SWARM_REPO}/.github/workflows/${WORKFLOW_FILE} of the default branch, dispatched by the swarm's App."
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
