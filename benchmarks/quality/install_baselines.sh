#!/usr/bin/env bash
# Install what the Lucene nori baseline (baselines.lucene_nori) needs: a JDK (java,
# javac) and Debian's Lucene 8 jars, which include lucene-analyzers-nori.
# Idempotent: installs only what is missing. Never fails its caller: without apt-get,
# or if apt-get fails, it says so and exits 0, and the benchmark skips the baseline.
set -eu

jar_dir=${LUCENE_JAR_DIR:-/usr/share/java}
packages=()
if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
    packages+=(default-jdk-headless)
fi
if ! compgen -G "$jar_dir/lucene-analyzers-nori-[0-9]*.jar" >/dev/null; then
    packages+=(liblucene8-java)
fi

if [ ${#packages[@]} -eq 0 ]; then
    echo "install_baselines: java, javac and the Lucene nori jars are already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_baselines: apt-get not available; install by hand: ${packages[*]}"
    exit 0
fi
apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install_baselines: not root and no sudo; install by hand: ${packages[*]}"
        exit 0
    fi
    apt=(sudo "${apt[@]}")
fi

echo "install_baselines: installing ${packages[*]}"
if ! "${apt[@]}" update -qq \
    || ! "${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}"; then
    echo "install_baselines: apt-get failed; the nori baseline will be unavailable"
    exit 0
fi
echo "install_baselines: installed ${packages[*]}"
