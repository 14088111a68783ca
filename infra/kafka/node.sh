#!/usr/bin/env bash
# Runs one Apache Kafka (KRaft) node in the foreground, formatting its storage first if it was
# never formatted. The JVM replaces this shell, so a signal to this pid reaches the broker.
#   infra/kafka/node.sh SERVER.PROPERTIES CLUSTER-ID [--standalone]
# --standalone: a single node that is its own controller quorum (controller.quorum.bootstrap.servers);
# without it the properties name the static quorum (controller.quorum.voters).
# KAFKA_HEAP overrides the heap settings (-Xmx512m -Xms128m).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PROPS="$1"
CLUSTER_ID="$2"
MODE="${3:-}"
KAFKA_HOME="$("$here/install.sh")"
CP="$KAFKA_HOME/libs/*"
LOG4J="-Dlog4j2.configurationFile=$KAFKA_HOME/log4j2.properties"
logdir="$(sed -n 's/^log\.dirs=//p' "$PROPS" | head -1)"
[ -n "$logdir" ] || { echo "$PROPS has no log.dirs" >&2; exit 1; }
if [ ! -f "$logdir/meta.properties" ]; then
  mkdir -p "$logdir"
  # shellcheck disable=SC2086
  java $LOG4J -cp "$CP" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS" $MODE >/dev/null
fi
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP:--Xmx512m -Xms128m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -Djava.awt.headless=true $LOG4J -cp "$CP" kafka.Kafka "$PROPS"
