// Package e2e holds the end-to-end tests of notifyscan's pre-commit hooks
// (.pre-commit-hooks.yaml) and GitHub Action (action.yml), run with the real
// tools: git, pre-commit, nektos/act, actionlint and Microsoft's SARIF
// multitool. install-tools.sh installs them; without them the tests skip,
// unless NOTIFYSCAN_E2E=1 (as in CI), when a missing tool fails the test.
// The structural checks of action.yml, the hooks, the example workflows and
// the README's sections about them need nothing but Go.
//
// The hook and the action are tested from a snapshot of the work tree (the
// tracked and untracked, not ignored, files committed to a temporary
// repository), so uncommitted changes are what gets tested:
//
//   - pre-commit: a temporary project whose .pre-commit-config.yaml names the
//     snapshot's path and commit; 'pre-commit install', then real 'git commit'
//     runs, and 'pre-commit try-repo' for both hooks.
//   - act, in host mode (-P ubuntu-latest=-self-hosted: steps run as shell on
//     this machine), offline (--action-offline-mode, ACT_DISABLE_VERSION_CHECK=1,
//     --no-cache-server, GOPROXY=off): every remote action is replaced with a
//     local directory by --local-repository: cds-snc/notifyscan@main with the
//     snapshot, actions/setup-go@v5 with a stub that checks it was given the
//     action's go.mod (Go is on PATH already), and
//     github/codeql-action@v3 with a stub upload-sarif that checks the file.
//     actions/checkout needs no stub: act copies the work tree for a checkout
//     of the repository itself. The workspace is a depth-1 clone of the pull
//     request's head from a local bare "origin", so the action's fetching and
//     deepening run for real. act prints annotations and the job summary.
//   - 'notifyscan action' run directly with the variables the runner sets, for
//     every event plan (push, new branch, deleted branch, schedule); its SARIF
//     goes through the SARIF multitool with GitHub's rules.
//
// Keys are made at run time; none is ever written to this repository.
package e2e
