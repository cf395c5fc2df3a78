#!/usr/bin/env bash
# Refresh the vendored Apache ECharts from its npm package (the version pinned in
# assets/package.json and assets/package-lock.json) into edupilot/static/vendor/echarts-<v>/.
# Only a developer runs this, to change the version; serving needs neither npm nor a network
# (docs/decisions/1101-echarts-served-locally.md). After a version change, update the path
# in edupilot/dashboards/ (ECHARTS_STATIC) and delete the old directory.
set -euo pipefail
cd "$(dirname "$0")/../assets"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --silent
else
  npm install --no-audit --no-fund --silent
fi
version="$(node -p 'require("./node_modules/echarts/package.json").version')"
dest="../edupilot/static/vendor/echarts-${version}"
mkdir -p "$dest"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts.min.js"
cp node_modules/echarts/LICENSE "$dest/LICENSE"
[ -f node_modules/echarts/NOTICE ] && cp node_modules/echarts/NOTICE "$dest/NOTICE"
sha256sum "$dest/echarts.min.js"
echo "vendored echarts ${version} into ${dest#../}"
