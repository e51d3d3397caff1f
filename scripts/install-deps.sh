#!/usr/bin/env bash
# Installs every Debian package Conflux needs to build and test. Idempotent: installs nothing when all are present.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libcurl4-openssl-dev libssl-dev libyaml-cpp-dev libpoco-dev libspdlog-dev catch2
  libsqlite3-dev sqlite3 libphonenumber-dev libre2-dev libmimalloc-dev libicu-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev
  libvalijson-dev
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
# --no-install-recommends keeps libvalijson-dev's optional extras out (its Qt dependency is header-only use for us).
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
