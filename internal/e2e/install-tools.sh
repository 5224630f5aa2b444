#!/usr/bin/env bash
# install-tools.sh installs what the end-to-end tests in internal/e2e need on a
# fresh Debian 12 machine (root, or sudo available), and nothing when it is all
# there already:
#
#   git, pre-commit (Debian's 3.0.x)          apt-get
#   act, actionlint                           go install, into $NOTIFYSCAN_TOOLS/bin
#   @microsoft/sarif-multitool                npm, into $NOTIFYSCAN_TOOLS/npm
#
# NOTIFYSCAN_TOOLS defaults to $HOME/.cache/notifyscan-tools. The tests look
# there (and on PATH). Versions are pinned; change them here only.
set -euo pipefail

ACT_VERSION=v0.2.89
ACTIONLINT_VERSION=v1.7.12
SARIF_MULTITOOL_VERSION=5.7.0

tools=${NOTIFYSCAN_TOOLS:-$HOME/.cache/notifyscan-tools}
mkdir -p "$tools/bin"
log() { printf 'install-tools: %s\n' "$*" >&2; }

sudo=
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi

# Debian packages.
missing=()
command -v git >/dev/null || missing+=(git)
command -v pre-commit >/dev/null || missing+=(pre-commit)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go tools: rebuilt only when the pinned version changes. They are built
# outside this module (GOFLAGS from the environment is ignored for them) so
# that they never become its dependencies.
gotool() { # name module version
  local name=$1 mod=$2 ver=$3 stamp="$tools/bin/.$1.version"
  if [ -x "$tools/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$ver" ]; then
    return
  fi
  log "go install $mod@$ver"
  (cd "$tools" && GOFLAGS= GOBIN="$tools/bin" CGO_ENABLED=0 go install "$mod@$ver")
  echo "$ver" >"$stamp"
}
gotool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
gotool act github.com/nektos/act "$ACT_VERSION"

# SARIF validator (a self-contained .NET program shipped in the npm package).
npmdir="$tools/npm"
if [ "$(cat "$npmdir/.version" 2>/dev/null)" != "$SARIF_MULTITOOL_VERSION" ]; then
  log "npm install @microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION"
  mkdir -p "$npmdir"
  npm install --prefix "$npmdir" --no-audit --no-fund --loglevel=error \
    "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION" >/dev/null
  echo "$SARIF_MULTITOOL_VERSION" >"$npmdir/.version"
fi
# The package's bin.js passes arguments through a shell (";" in --rule-kind
# "Gh;Sarif" would split the command): link the native program instead.
ln -sf "$npmdir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" "$tools/bin/sarif-multitool"

log "ready in $tools/bin: $(ls "$tools/bin" | tr '\n' ' ')"
