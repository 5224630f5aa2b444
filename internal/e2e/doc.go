// Package e2e holds the end-to-end tests of notifyscan's pre-commit hooks
// (.pre-commit-hooks.yaml) and GitHub Action (action.yml), run with the real
// tools: git, pre-commit, nektos/act, actionlint and Microsoft's SARIF
// multitool. install-tools.sh installs them; without them the tests skip,
// unless NOTIFYSCAN_E2E=1 (as in CI), when a missing tool fails the test.
// The structural checks of action.yml, the hooks and the example workflows
// need nothing but Go.
//
// Keys are made at run time; none is ever written to this repository.
package e2e
