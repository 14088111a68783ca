// The AsyncAPI 3.0 document of Schakel's Kafka topics, generated from the sources:
//
//   schemas/topics.toml                     the topics: partitions, replicas, compaction
//   schemas/<topic>.avsc                    the Avro value schema of each topic
//   services/core/src/domain/catalogue.rs   the CloudEvents types on each topic
//   Cargo.toml                              the version ([workspace.package] version)
//
// What the sources do not say (who writes and who reads a topic, what its key is) is in the
// TOPICS table below; keep it in step with the services.
//
//   node infra/contracts/asyncapi.mjs write   regenerates schemas/asyncapi.json
//   node infra/contracts/asyncapi.mjs check   fails when schemas/asyncapi.json is not what the
//                                             sources give, or when the AsyncAPI parser finds
//                                             an error in it

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUTPUT = 'schemas/asyncapi.json';
const WRITE_COMMAND = 'node infra/contracts/asyncapi.mjs write';

const AVRO_FORMAT = 'application/vnd.apache.avro;version=1.9.0';
const KAFKA_BINDING = '0.5.0';
const SERVER_ID = 'local';

// ---------------------------------------------------------------------------------------------
// What the sources do not say.

const CHILD_KEY_SCHEMA = {
  type: 'string',
  pattern: '^[0-9a-f]{64}$',
  description:
    "The ChildKey: the keyed HMAC-SHA256 pseudonym of the child's BSN or onderwijsnummer " +
    '(64 lower-case hex digits). Every fact about one child carries the same key, so it lands ' +
    'in the same partition number on every child-scoped topic.',
};

// Per topic: what the key is, which parts of Schakel write it and which read it, and, where
// it matters, how records are spread over the partitions (default: by the hash of the key),
// what a record with a null value (a tombstone) means, and a summary for a topic without an
// Avro schema (whose summary otherwise is the schema's doc).
const TOPICS = {
  'source.school.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: ['ingest, from `POST /v1/events` and `POST /v1/imports/enrolments`'],
    readers: ['rules', 'monitor', '`schakel explain`'],
  },
  'source.voorschool.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: ['ingest, from `POST /v1/events` and `POST /v1/imports/placements`'],
    readers: ['rules', 'monitor', '`schakel explain`'],
  },
  'source.leerplicht.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: [
      'ingest, from `POST /v1/events` and `POST /v1/imports/{verzuim,vrijstellingen,thuiszitters}`',
    ],
    readers: [
      'rules',
      'monitor',
      'ingest (the open verzuim meldingen, to refuse an impossible status change)',
      '`schakel explain`',
    ],
  },
  'source.jeugdhulp.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: ['ingest, from `POST /v1/events` and `POST /v1/ijw`'],
    readers: ['rules', 'monitor', '`schakel explain`'],
  },
  'hub.responses.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: [
      "ingest (answers posted by contact-person systems)",
      'monitor (acknowledge and complete in the inbox)',
    ],
    readers: ['rules', 'monitor', 'ingest (to judge an answer against the task)'],
  },
  'hub.clock.v1': {
    key: {
      type: 'string',
      enum: ['clock'],
      description:
        'Always `clock`: a tick is not about a child.',
    },
    partitioning:
      'The clock writes one copy of each tick to every partition explicitly, so every rules ' +
      'instance sees every day.',
    writers: ['`schakel clock run` and `schakel clock tick`'],
    readers: ['rules', 'notify (retry times, when `notify.clock` is `log`)'],
  },
  'hub.signals.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: ['rules', 'notify (configuration problems for `beheer`)'],
    readers: [
      'notify',
      'monitor',
      'ingest (to judge an answer against the task)',
      'rules (restoring its own steps)',
      '`schakel explain`',
    ],
  },
  'hub.directory.v1': {
    key: {
      type: 'string',
      pattern: '^(institution|contact):.+$',
      description: 'The entry: `institution:<id>` or `contact:<id>`; the topic is compacted on it.',
    },
    tombstones: 'a record with a null value and no headers removes the entry',
    writers: ['`schakel directory`'],
    readers: ['notify', 'monitor', 'ingest', '`schakel directory`'],
  },
  'hub.deliveries.v1': {
    key: {
      type: 'string',
      description:
        'The deterministic delivery id (signal event, contact and channel): every attempt of ' +
        'one delivery is in one partition, in order.',
    },
    writers: ['notify', '`schakel deliveries` (retry requests)'],
    readers: ['notify (its delivery ledger)', 'monitor', '`schakel deliveries`'],
  },
  'hub.deadletter.v1': {
    key: {
      type: 'string',
      description: 'The id of the dead letter.',
    },
    writers: ['rules (records it could not process, with the reason)'],
    readers: [],
  },
  'hub.identities.v1': {
    key: CHILD_KEY_SCHEMA,
    tombstones:
      "a record with a null value and no headers follows the erasure of a child's identity, " +
      'so that compaction drops the records that can no longer be read',
    writers: ['ingest', '`schakel vault` (erasure)'],
    readers: ['monitor', '`schakel vault`'],
  },
  'hub.audit.v1': {
    key: CHILD_KEY_SCHEMA,
    writers: ['monitor (every read of child-level data)', '`schakel vault`'],
    readers: ['`schakel audit`'],
  },
  'hub.imports.v1': {
    key: {
      type: 'string',
      description: 'The import id; the topic is compacted on it, so the newest progress is kept.',
    },
    writers: ['ingest (CSV imports)'],
    readers: ['ingest (a re-run of an import skips the lines already written)'],
  },
  'hub.snapshots.v1': {
    key: {
      type: 'string',
      description:
        'The consumer group of rules and the part: `<group>/manifest` or ' +
        '`<group>/chunk/<slot>/<n>`.',
    },
    summary: 'Snapshots of the rules state (chunks and manifests): internal, not a contract.',
    partitioning:
      'Partition *p* holds the snapshots of the rules state of input partition *p*, written ' +
      'to that partition explicitly.',
    writers: ['rules'],
    readers: ['rules (restoring a partition)'],
  },
};

// ---------------------------------------------------------------------------------------------
// Reading the sources.

function read(rel) {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

class SourceError extends Error {}

// A parser for the part of TOML that topics.toml uses: comments, `key = value` with basic
// strings, integers and booleans, and arrays of tables (`[[topic]]`). Anything else is refused,
// so a new construct in topics.toml is noticed here rather than misread.
function parseTomlSubset(text, file) {
  const root = {};
  let table = root;
  const fail = (n, msg) => {
    throw new SourceError(`${file}:${n}: ${msg} (asyncapi.mjs reads only a subset of TOML)`);
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    const line = stripComment(raw, () => fail(n, 'unterminated string')).trim();
    if (line === '') return;
    let m = line.match(/^\[\[\s*([A-Za-z0-9_-]+)\s*\]\]$/);
    if (m) {
      const name = m[1];
      if (!(name in root)) root[name] = [];
      if (!Array.isArray(root[name])) fail(n, `${name} is not an array of tables`);
      table = {};
      root[name].push(table);
      return;
    }
    m = line.match(/^([A-Za-z0-9_-]+)\s*=\s*(.+)$/);
    if (!m) fail(n, `cannot read ${JSON.stringify(line)}`);
    const [, key, value] = m;
    if (Object.hasOwn(table, key)) fail(n, `${key} given twice`);
    table[key] = parseTomlValue(value.trim(), (msg) => fail(n, msg));
  });
  return root;
}

function stripComment(line, unterminated) {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString && c === '\\') i++;
    else if (c === '"') inString = !inString;
    else if (c === '#' && !inString) return line.slice(0, i);
  }
  if (inString) unterminated();
  return line;
}

function parseTomlValue(v, fail) {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^[+-]?(0|[1-9](_?[0-9])*)$/.test(v)) {
    const n = Number(v.replaceAll('_', ''));
    if (!Number.isSafeInteger(n)) fail(`integer out of range: ${v}`);
    return n;
  }
  if (/^"(?:[^"\\\u0000-\u001f]|\\(?:["\\bfnrt]|u[0-9A-Fa-f]{4}))*"$/.test(v)) {
    return JSON.parse(v); // TOML basic strings escape like JSON strings in this subset
  }
  fail(`unsupported value ${v}`);
}

// The `version` of `[workspace.package]` in the workspace Cargo.toml.
function workspaceVersion() {
  let section = null;
  for (const raw of read('Cargo.toml').split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const header = line.match(/^\[([^\]]+)\]$/);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const m = line.match(/^version\s*=\s*"([^"]+)"$/);
    if (section === 'workspace.package' && m) return m[1];
  }
  throw new SourceError('Cargo.toml: no version in [workspace.package]');
}

// The CloudEvents types of the catalogue, per topic name, in catalogue order.
function catalogueTypes() {
  const file = 'services/core/src/domain/catalogue.rs';
  const text = read(file);
  const topicNames = new Map();
  for (const m of text.matchAll(/pub const (\w+): Topic = Topic\("([^"]+)"\);/g)) {
    topicNames.set(m[1], m[2]);
  }
  const start = text.search(/^catalogue! \{$/m);
  if (topicNames.size === 0 || start < 0) {
    throw new SourceError(`${file}: cannot find the topics or the catalogue! invocation`);
  }
  const types = new Map();
  const body = text.slice(start, text.indexOf('\n}', start));
  for (const m of body.matchAll(/^\s*\w+ = "([^"]+)" on (\w+)(?: from (\w+))?;/gm)) {
    const [, type, topicConst, sourceKind] = m;
    const topic = topicNames.get(topicConst);
    if (!topic) throw new SourceError(`${file}: ${type} is on unknown topic ${topicConst}`);
    if (!types.has(topic)) types.set(topic, []);
    types.get(topic).push({ type, sourced: sourceKind !== undefined });
  }
  if (types.size === 0) throw new SourceError(`${file}: no event types found`);
  return types;
}

function readTopics() {
  const file = 'schemas/topics.toml';
  const spec = parseTomlSubset(read(file), file);
  const known = new Set(['child_partitions', 'replication_factor', 'topic']);
  for (const k of Object.keys(spec)) {
    if (!known.has(k)) throw new SourceError(`${file}: unknown key ${k}`);
  }
  const int = (v, what) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new SourceError(`${file}: ${what} must be a positive integer`);
    }
    return v;
  };
  const childPartitions = int(spec.child_partitions, 'child_partitions');
  const replicas = int(spec.replication_factor, 'replication_factor');
  const fields = new Set(['name', 'child_scoped', 'partitions', 'compact', 'schema', 'segment_ms']);
  const seen = new Set();
  return (spec.topic ?? []).map((t) => {
    for (const k of Object.keys(t)) {
      if (!fields.has(k)) throw new SourceError(`${file}: topic ${t.name}: unknown key ${k}`);
    }
    if (typeof t.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(t.name)) {
      throw new SourceError(`${file}: a topic has no valid name`);
    }
    if (seen.has(t.name)) throw new SourceError(`${file}: topic ${t.name} given twice`);
    seen.add(t.name);
    const expect = (key, type) => {
      if (t[key] !== undefined && typeof t[key] !== type) {
        throw new SourceError(`${file}: topic ${t.name}: ${key} must be a ${type}`);
      }
    };
    expect('child_scoped', 'boolean');
    expect('compact', 'boolean');
    expect('schema', 'string');
    if (t.segment_ms !== undefined) int(t.segment_ms, `${t.name}: segment_ms`);
    const childScoped = t.child_scoped === true;
    // as `schakel topics apply` does: child-scoped topics get child_partitions, others their
    // own count or 1
    const partitions = childScoped
      ? childPartitions
      : int(t.partitions ?? 1, `${t.name}: partitions`);
    let schema = null;
    if (t.schema !== undefined) {
      if (t.schema !== `${t.name}.avsc`) {
        throw new SourceError(`${file}: topic ${t.name}: schema must be ${t.name}.avsc`);
      }
      const rel = `schemas/${t.schema}`;
      if (!existsSync(path.join(ROOT, rel))) throw new SourceError(`${rel}: missing`);
      try {
        schema = JSON.parse(read(rel));
      } catch (e) {
        throw new SourceError(`${rel}: ${e.message}`);
      }
    }
    return {
      name: t.name,
      childScoped,
      partitions,
      replicas,
      compact: t.compact === true,
      segmentMs: t.segment_ms,
      schema,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Building the document.

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const list = (items) => items.map((s) => `- ${s}`).join('\n');

// The settings `schakel topics apply` gives a topic (services/cli/src/topics.rs).
function topicConfiguration(t) {
  const c = { 'cleanup.policy': [t.compact ? 'compact' : 'delete'] };
  if (!t.compact) c['retention.ms'] = -1; // the log is the truth: nothing expires by age
  if (t.childScoped) c['message.timestamp.type'] = 'LogAppendTime';
  if (t.segmentMs !== undefined) c['segment.ms'] = t.segmentMs;
  return c;
}

function ceHeaders(t, types) {
  const sourced = types.filter((x) => x.sourced).length > 0;
  return {
    type: 'object',
    description:
      'CloudEvents 1.0 in Kafka binary content mode (attributes as `ce_` headers, NL GOV ' +
      'profile for CloudEvents) and W3C trace context. Every value is a UTF-8 string. No ' +
      'header carries a BSN, a name or care data.',
    required: [
      'ce_specversion',
      'ce_id',
      'ce_source',
      'ce_type',
      'ce_time',
      'ce_dataschema',
      'ce_datacontenttype',
      'content-type',
      'traceparent',
    ],
    properties: {
      ce_specversion: { type: 'string', const: '1.0', description: 'CloudEvents version.' },
      ce_id: {
        type: 'string',
        minLength: 1,
        description: sourced
          ? 'CloudEvents `id`, unique per `ce_source`: the id the source system gave, or for an ' +
            'iJw message or a CSV row the one ingest derives from it. A record with a ' +
            '(`ce_source`, `ce_id`) seen before is a re-send: consumers deduplicate.'
          : 'CloudEvents `id`, unique per `ce_source`; a record written again (a retry, a ' +
            'replay) carries the same id, and consumers deduplicate on it.',
      },
      ce_source: {
        type: 'string',
        format: 'uri',
        description: sourced
          ? 'CloudEvents `source`: the URN of the sending system, e.g. ' +
            '`urn:nld:brin:12AB:systeem:parnassys` or `urn:nld:gemeente:0392:systeem:leerplicht`.'
          : 'CloudEvents `source`: the URN of the part of Schakel (`urn:nl:schakel:<part>`) or ' +
            'of the system that wrote the record.',
      },
      ce_type: {
        type: 'string',
        enum: types.map((x) => x.type),
        description: 'CloudEvents `type`: the event types of the catalogue on this topic.',
      },
      ce_time: {
        type: 'string',
        format: 'date-time',
        description: 'CloudEvents `time`: when the fact happened (RFC 3339, UTC).',
      },
      ce_dataschema: {
        type: 'string',
        pattern: `^urn:nl:schakel:schema:${escapeRegex(t.name)}:[0-9a-f]{16}$`,
        description:
          "CloudEvents `dataschema`: the topic and the CRC-64-AVRO fingerprint (16 hex " +
          "digits) of the writer schema's Parsing Canonical Form, the same fingerprint as in " +
          'the payload.',
      },
      ce_datacontenttype: {
        type: 'string',
        const: 'application/avro',
        description: 'CloudEvents `datacontenttype`.',
      },
      'content-type': {
        type: 'string',
        const: 'application/avro',
        description: 'The content type of the value (the CloudEvents Kafka binding).',
      },
      traceparent: {
        type: 'string',
        pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        description:
          'W3C trace context: the span that wrote the record, in the trace of the request ' +
          'or step that caused it.',
      },
      tracestate: {
        type: 'string',
        description:
          'W3C trace context vendor data. Optional: written only when the request that ' +
          'caused the record carried one; consumers must accept records with or without it.',
      },
    },
  };
}

function avroMessage(t, facts, types) {
  const schema = t.schema;
  if (typeof schema.name !== 'string') {
    throw new SourceError(`schemas/${t.name}.avsc: the top-level schema must be a named record`);
  }
  const description = [
    'The value is the Avro schema below in Avro single-object encoding: the bytes `C3 01`, ' +
      "the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing " +
      'Canonical Form, then the Avro binary datum. Readers resolve an older writer schema ' +
      '(`schemas/history/`) against the current one; schema changes stay backward compatible. ' +
      'No schema registry is needed.',
  ];
  if (facts.tombstones) description.push(`Tombstones: ${facts.tombstones}.`);
  return {
    name: schema.name,
    title: `${schema.name} (${t.name})`,
    summary: schema.doc ?? `A record of ${t.name}.`,
    description: description.join('\n\n'),
    contentType: 'application/avro',
    headers: ceHeaders(t, types),
    payload: { schemaFormat: AVRO_FORMAT, schema },
    bindings: { kafka: { key: facts.key, bindingVersion: KAFKA_BINDING } },
  };
}

function rawMessage(t, facts) {
  return {
    name: 'RawRecord',
    title: `Raw record (${t.name})`,
    summary: 'Internal bytes, with no Avro schema and no CloudEvents headers: not a contract.',
    description:
      'The format may change with any release of Schakel; no system outside Schakel should ' +
      'read or write this topic.',
    contentType: 'application/octet-stream',
    payload: {
      type: 'string',
      format: 'binary',
      description: 'Opaque bytes, written and read only by Schakel itself.',
    },
    bindings: { kafka: { key: facts.key, bindingVersion: KAFKA_BINDING } },
  };
}

function channelDescription(t, facts) {
  const parts = [];
  if (t.childScoped) {
    parts.push(
      `Child-scoped: ${t.partitions} partitions (\`child_partitions\`), the same count as every ` +
        'other child-scoped topic. Changing the count moves children between partitions: only ' +
        'with a full replay.',
    );
  } else {
    parts.push(`${t.partitions} partition${t.partitions === 1 ? '' : 's'}.`);
  }
  if (facts.partitioning) {
    parts.push(facts.partitioning);
  } else if (t.childScoped) {
    parts.push(
      "A record goes to the partition of its key's murmur2 hash (Kafka's default " +
        'partitioner), so partition *p* of every child-scoped topic holds the facts of the ' +
        'same children (co-partitioning).',
    );
  } else if (t.partitions > 1) {
    parts.push(
      "A record goes to the partition of its key's murmur2 hash (Kafka's default partitioner).",
    );
  }
  parts.push(
    t.compact
      ? 'Compacted: the newest record of each key is kept.'
      : 'Nothing is deleted by age (`retention.ms` -1): the log is the truth.',
  );
  parts.push(
    `Replicas: ${t.replicas} (\`replication_factor\` of topics.toml; a production cluster ` +
      'uses 3 through `schakel topics apply --replication-factor 3`).',
  );
  parts.push(`Written by:\n\n${list(facts.writers)}`);
  parts.push(
    facts.readers.length > 0
      ? `Read by:\n\n${list(facts.readers)}`
      : 'No part of Schakel reads it back.',
  );
  parts.push(
    'The address is the logical topic name; a region that sets `[kafka] topic_prefix` ' +
      '(`SCHAKEL_KAFKA__TOPIC_PREFIX`) finds the topic at the prefix followed by this name.',
  );
  return parts.join('\n\n');
}

function buildDocument() {
  const version = workspaceVersion();
  const topics = readTopics();
  const catalogue = catalogueTypes();
  const warnings = [];

  const channels = {};
  const operations = {};
  let messages = 0;
  for (const t of topics) {
    let facts = TOPICS[t.name];
    if (!facts) {
      warnings.push(
        `${t.name} is not in the TOPICS table of asyncapi.mjs: its key, writers and readers ` +
          'are left open',
      );
      facts = { key: { type: 'string' }, writers: ['(not recorded)'], readers: [] };
    }
    const types = catalogue.get(t.name) ?? [];
    if (t.schema && types.length === 0) {
      warnings.push(`${t.name} has no event types in the catalogue (catalogue.rs)`);
    }
    const message = t.schema ? avroMessage(t, facts, types) : rawMessage(t, facts);
    const messageId = message.name;
    messages += 1;
    channels[t.name] = {
      address: t.name,
      title: t.name,
      summary: t.schema?.doc ?? facts.summary ?? `The topic ${t.name}.`,
      description: channelDescription(t, facts),
      messages: { [messageId]: message },
      bindings: {
        kafka: {
          partitions: t.partitions,
          replicas: t.replicas,
          topicConfiguration: topicConfiguration(t),
          bindingVersion: KAFKA_BINDING,
        },
      },
    };
    const channelRef = { $ref: `#/channels/${t.name}` };
    const messageRefs = [{ $ref: `#/channels/${t.name}/messages/${messageId}` }];
    operations[`${t.name}.send`] = {
      action: 'send',
      channel: channelRef,
      title: `Write ${t.name}`,
      summary: `Schakel writes records to ${t.name}.`,
      description: `Written by:\n\n${list(facts.writers)}`,
      messages: messageRefs,
    };
    if (facts.readers.length > 0) {
      operations[`${t.name}.receive`] = {
        action: 'receive',
        channel: channelRef,
        title: `Read ${t.name}`,
        summary: `Schakel reads ${t.name}.`,
        description: `Read by:\n\n${list(facts.readers)}`,
        messages: messageRefs,
      };
    }
  }
  for (const name of Object.keys(TOPICS)) {
    if (!topics.some((t) => t.name === name)) {
      warnings.push(`${name} is in the TOPICS table of asyncapi.mjs but not in topics.toml`);
    }
  }

  const doc = {
    asyncapi: '3.0.0',
    id: 'urn:nl:schakel',
    info: {
      title: 'Schakel',
      version,
      description: [
        'Schakel is an event-sourced integration hub between school systems and municipality ' +
          'systems in the Netherlands. Source systems post facts about children over HTTP ' +
          '(`POST /v1/events`, `/v1/ijw`, `/v1/imports/{kind}`; see EVENTS.md); Schakel logs ' +
          'them in Kafka, derives transition and warm-handoff signals, and notifies the ' +
          'contact persons who must act.',
        'This document describes the Kafka topics of that log, seen from Schakel: every ' +
          'topic is written by a part of Schakel, and read by the parts listed. External ' +
          'systems do not write to Kafka; they use the HTTP API.',
        'Values are Avro (single-object encoding, schemas in `schemas/`), headers are ' +
          'CloudEvents in binary content mode, and child-scoped topics are keyed by ChildKey, ' +
          'a pseudonym: no BSN or name is ever written to Kafka in plain text.',
        `Generated from \`schemas/topics.toml\`, \`schemas/*.avsc\` and the event catalogue ` +
          `by \`${WRITE_COMMAND}\`; do not edit by hand.`,
      ].join('\n\n'),
      license: {
        name: 'EUPL-1.2',
        url: 'https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12',
      },
    },
    defaultContentType: 'application/avro',
    servers: {
      [SERVER_ID]: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        title: 'Local broker',
        summary: 'The single-node Apache Kafka (KRaft) that `make up` starts.',
        description:
          'Topics are created by `schakel topics apply` from `schemas/topics.toml`; services ' +
          'never rely on auto-creation. A region may set `[kafka] topic_prefix` ' +
          '(`SCHAKEL_KAFKA__TOPIC_PREFIX`) to put several regions or test runs on one cluster: ' +
          'every topic name on the broker is then that prefix followed by the channel address ' +
          '(the local broker uses none). Producers write with acks=all and idempotence.',
        bindings: { kafka: { bindingVersion: KAFKA_BINDING } },
      },
    },
    channels,
    operations,
  };
  const counts = { channels: topics.length, messages, operations: Object.keys(operations).length };
  return { doc, warnings, counts };
}

function render(doc) {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Validation with the official parser.

const SEVERITY = ['error', 'warning', 'info', 'hint'];

async function validate(text) {
  const { Parser } = await import('@asyncapi/parser');
  const { AvroSchemaParser } = await import('@asyncapi/avro-schema-parser');
  const avro = AvroSchemaParser();
  const parser = new Parser({
    schemaParsers: [avro],
    // The document is AsyncAPI 3.0.0 on purpose; the parser would otherwise remind us, as
    // information, of every newer version it knows.
    ruleset: { rules: { 'asyncapi-latest-version': 'off' } },
  });
  const { diagnostics } = await parser.parse(text, { source: path.join(ROOT, OUTPUT) });
  // For AsyncAPI 3 documents the parser checks an Avro payload only against the JSON Schema
  // of Avro's syntax: it never calls the registered schema parser's validate(), which is
  // what resolves type names and checks defaults (avsc). So call it here for every payload.
  const doc = JSON.parse(text);
  const found = [...diagnostics];
  for (const [channelId, channel] of Object.entries(doc.channels ?? {})) {
    for (const [messageId, message] of Object.entries(channel.messages ?? {})) {
      if (!avro.getMimeTypes().includes(message.payload?.schemaFormat)) continue;
      const at = ['channels', channelId, 'messages', messageId, 'payload', 'schema'];
      for (const problem of await avro.validate({ data: message.payload.schema, path: at })) {
        found.push({
          severity: 0,
          code: 'avro-schema',
          path: problem.path ?? at,
          message: problem.message,
        });
      }
    }
  }
  return found;
}

function describe(d) {
  const where = d.path && d.path.length > 0 ? `/${d.path.join('/')}` : '(document)';
  return `${SEVERITY[d.severity] ?? d.severity} ${d.code}: ${where}: ${d.message}`;
}

// ---------------------------------------------------------------------------------------------

const tally = (c) => `${c.channels} channels, ${c.messages} messages, ${c.operations} operations`;

async function main(mode) {
  let built;
  try {
    built = buildDocument();
  } catch (e) {
    if (e instanceof SourceError) {
      console.error(`asyncapi: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const { doc, warnings, counts } = built;
  for (const w of warnings) console.error(`asyncapi: warning: ${w}`);
  const text = render(doc);
  const target = path.join(ROOT, OUTPUT);

  if (mode === 'write') {
    writeFileSync(target, text);
    console.log(`asyncapi: wrote ${OUTPUT} (${tally(counts)})`);
    return 0;
  }

  const committed = existsSync(target) ? readFileSync(target, 'utf8') : null;
  if (committed !== text) {
    const why = committed === null ? 'is missing' : 'is not what the sources give';
    console.error(`asyncapi: ${OUTPUT} ${why}: run \`${WRITE_COMMAND}\` and commit the result`);
    if (committed !== null) console.error(firstDifference(committed, text));
    return 1;
  }

  const diagnostics = await validate(text);
  const errors = diagnostics.filter((d) => d.severity === 0);
  for (const d of diagnostics) console.error(`asyncapi: ${describe(d)}`);
  if (errors.length > 0) {
    const n = `${errors.length} error${errors.length === 1 ? '' : 's'}`;
    console.error(`asyncapi: ${OUTPUT} is not a valid AsyncAPI document (${n})`);
    return 1;
  }
  console.log(`asyncapi: ${OUTPUT} is current and valid (${tally(counts)})`);
  return 0;
}

// What differs between the committed file and the generated text, by channel and operation
// where the committed file is still JSON, else the first line where they part.
function firstDifference(committed, generated) {
  let a;
  try {
    a = JSON.parse(committed);
  } catch {
    a = null;
  }
  if (a !== null && typeof a === 'object') {
    const b = JSON.parse(generated);
    const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);
    const out = [];
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const nested = key === 'channels' || key === 'operations' || key === 'servers';
      if (nested && a[key] && b[key]) {
        for (const id of new Set([...Object.keys(a[key]), ...Object.keys(b[key])])) {
          if (!(id in a[key])) out.push(`${key}/${id}: new, not in the committed file`);
          else if (!(id in b[key])) out.push(`${key}/${id}: committed, no longer generated`);
          else if (!same(a[key][id], b[key][id])) out.push(`${key}/${id}: differs`);
        }
      } else if (!same(a[key], b[key])) {
        out.push(`${key}: differs`);
      }
    }
    if (out.length === 0) out.push('the same content, formatted differently');
    return out.map((line) => `  ${line}`).join('\n');
  }
  const x = committed.split('\n');
  const y = generated.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      const show = (v) => (v === undefined ? '(end of file)' : v.trim());
      return [
        `  first difference at line ${i + 1}:`,
        `    committed: ${show(x[i])}`,
        `    generated: ${show(y[i])}`,
      ].join('\n');
    }
  }
  return '';
}

const mode = process.argv[2];
if (mode !== 'write' && mode !== 'check') {
  console.error('usage: node infra/contracts/asyncapi.mjs write|check');
  process.exit(2);
}
process.exitCode = await main(mode);
