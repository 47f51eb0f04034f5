# Puts Node 24 first on PATH, from the npm registry's `node` package (npx caches it), and points
# node-gyp at that package's own headers so native modules (better-sqlite3) build for Node 24
# without downloading anything. Source it: `source .ci/node24.sh`.
NODE24_BIN="$(npx -y node@24 -p process.execPath)"
NODE24_HOME="$(cd "$(dirname "$NODE24_BIN")/.." && pwd)"
NODE24_DIST="$(find "$NODE24_HOME/node_modules" -maxdepth 1 -type d -name 'node-linux-*' | head -1)"
export PATH="$(dirname "$NODE24_BIN"):$PATH"
if [ -n "$NODE24_DIST" ] && [ -d "$NODE24_DIST/include/node" ]; then
  export npm_config_nodedir="$NODE24_DIST"
fi
