#!/usr/bin/env bash
# Fetches the pinned Apache Kafka broker from Maven Central once per machine, outside the clone,
# and reuses it afterwards. Prints where it lives (KAFKA_HOME) on stdout.
#   infra/kafka/install.sh
# KAFKA_HOME defaults to ~/.cache/schakel/kafka-<version>; the jars land in $KAFKA_HOME/libs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
KAFKA_HOME="${KAFKA_HOME:-$HOME/.cache/schakel/kafka-$VERSION}"
stamp="$KAFKA_HOME/libs/.complete"
if [ -f "$stamp" ] && cmp -s "$here/pom.xml" "$KAFKA_HOME/pom.xml"; then
  echo "$KAFKA_HOME"
  exit 0
fi
command -v java >/dev/null || { echo "java (17 or newer) is needed to run Apache Kafka" >&2; exit 1; }
command -v mvn >/dev/null || { echo "maven (mvn) is needed to fetch Apache Kafka" >&2; exit 1; }
echo "fetching Apache Kafka $VERSION from Maven Central into $KAFKA_HOME (about 45 MB, once per machine)" >&2
rm -rf "$KAFKA_HOME.tmp"
mkdir -p "$KAFKA_HOME.tmp"
cp "$here/pom.xml" "$KAFKA_HOME.tmp/pom.xml"
# batch mode prints one line per file downloaded: shown as a running count
mvn -B -f "$KAFKA_HOME.tmp/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$KAFKA_HOME.tmp/libs" 2>&1 \
  | awk '/Downloaded from/ { n++; if (n % 40 == 0) { printf "  %d files fetched\n", n; fflush() } }
         /ERROR|FAILURE/ { print; fflush() }
         END { printf "  %d files fetched\n", n }' >&2
jars=$(ls "$KAFKA_HOME.tmp/libs"/*.jar 2>/dev/null | wc -l)
if ! ls "$KAFKA_HOME.tmp/libs"/kafka_2.13-"$VERSION".jar >/dev/null 2>&1; then
  echo "fetching Apache Kafka failed: kafka_2.13-$VERSION.jar is missing" >&2
  exit 1
fi
# exactly one SLF4J binding, or the broker logs nothing (or complains of several)
bindings=$(ls "$KAFKA_HOME.tmp/libs" | grep -c -E '^(log4j-slf4j-impl|slf4j-(simple|reload4j|log4j12|jdk14|nop))-' || true)
if [ "$bindings" != 1 ]; then
  echo "expected exactly one SLF4J binding in the broker classpath, found $bindings" >&2
  exit 1
fi
cp "$here/log4j2.properties" "$KAFKA_HOME.tmp/log4j2.properties"
touch "$KAFKA_HOME.tmp/libs/.complete"
rm -rf "$KAFKA_HOME"
mv "$KAFKA_HOME.tmp" "$KAFKA_HOME"
echo "Apache Kafka $VERSION ready: $jars jars, $(du -sh "$KAFKA_HOME/libs" | cut -f1)" >&2
echo "$KAFKA_HOME"
