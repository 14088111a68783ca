#!/usr/bin/env bash
# Prints the server.properties of one local Apache Kafka node. The one place the project's
# broker settings live: `make up`, the tests and the cluster tests all use it.
#   infra/kafka/properties.sh single NODE-ID PORT CONTROLLER-PORT DATA-DIR
#   infra/kafka/properties.sh cluster NODE-ID PORT CONTROLLER-PORT DATA-DIR VOTERS
# VOTERS: the static controller quorum, e.g. 1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097
set -euo pipefail
MODE="$1" ID="$2" PORT="$3" CONTROLLER="$4" DATA="$5" VOTERS="${6:-}"
cat <<PROPS
process.roles=broker,controller
node.id=$ID
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
# topics are created by \`schakel topics apply\`, never by a producer or consumer
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# consumer groups may use short sessions, so a lost instance's partitions move in seconds
group.min.session.timeout.ms=2000
offsets.topic.num.partitions=10
num.partitions=1
PROPS
if [ "$MODE" = single ]; then
  cat <<PROPS
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
PROPS
else
  cat <<PROPS
controller.quorum.voters=$VOTERS
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# a node that was killed comes back into the ISR quickly
replica.lag.time.max.ms=5000
PROPS
fi
