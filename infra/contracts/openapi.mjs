// Validates the OpenAPI documents of ingest and the monitor against the OpenAPI
// specification's own JSON schema (3.1), and checks that every $ref resolves.
//
//   node infra/contracts/openapi.mjs [FILE ...]   (default: both services' documents)
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ["services/ingest/openapi.json", "services/monitor/openapi.json"];

let failed = false;
for (const file of files) {
  const validator = new Validator();
  const res = await validator.validate(path.resolve(root, file));
  if (!res.valid) {
    failed = true;
    console.error(`openapi: ${file} does not match the OpenAPI ${validator.version ?? ""} schema:`);
    for (const e of [].concat(res.errors ?? [])) {
      console.error(`  ${e.instancePath ?? ""} ${e.message ?? JSON.stringify(e)}`);
    }
    continue;
  }
  try {
    validator.resolveRefs();
  } catch (e) {
    failed = true;
    console.error(`openapi: ${file}: a $ref does not resolve: ${e.message}`);
    continue;
  }
  const paths = Object.keys(validator.specification.paths ?? {}).length;
  console.log(`openapi: ${file} is valid OpenAPI ${validator.version} (${paths} paths)`);
}
process.exit(failed ? 1 : 0);
