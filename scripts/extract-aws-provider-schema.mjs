#!/usr/bin/env node
// Pins the part of the hashicorp/aws provider schema that infra/aws uses, for
// test/unit/aws-infra-schema.test.ts, without making the 37 MB (392 MB unpacked) @cdktf/provider-aws
// a dependency. It reads the package's generated bindings: each resource's synthesizeHclAttributes
// (argument and block names, block nesting) and its .d.ts config interfaces (which arguments are
// required). How it was produced (no network at test time):
//   npm pack @cdktf/provider-aws@21.22.1 && tar xzf cdktf-provider-aws-21.22.1.tgz
//   node scripts/extract-aws-provider-schema.mjs package > test/fixtures/aws-provider-schema.json && npm run format
// 21.22.1 is the last release (cdktf was retired in 2025); it binds provider 6.25.0. OVERLAY adds
// what the provider gained after 6.25.0 that infra/aws uses, each with its source.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertFiles } from '@cdktf/hcl2json';

const OVERLAY = {
  aws_lambda_permission: {
    // hashicorp/terraform-provider-aws#44858, released in 6.29.0 (versions.tf requires it).
    invoked_via_function_url: { type: 'bool', required: false, since: '6.29.0' },
  },
};

const root = process.argv[2];
if (!root) throw new Error('usage: extract-aws-provider-schema.mjs <unpacked @cdktf/provider-aws dir>');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const hcl = await convertFiles(new URL('../infra/aws', import.meta.url).pathname);
const pascal = (s) => s.replace(/(^|_)([a-z0-9])/g, (_, __, c) => c.toUpperCase());

/** Function body of `name` (up to the next top-level declaration). */
function body(source, header) {
  const start = source.indexOf(header);
  if (start < 0) throw new Error(`not found: ${header}`);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end);
}

/** Required camelCase properties of an interface in the .d.ts. */
function requiredProps(dts, iface) {
  const start = dts.indexOf(`export interface ${iface} `);
  if (start < 0) throw new Error(`no interface ${iface}`);
  const text = dts.slice(start, dts.indexOf('\n}\n', start));
  return new Set([...text.matchAll(/^\s+readonly (\w+): /gm)].map((m) => m[1]));
}

function readStruct(js, dts, attrsText, iface) {
  const required = requiredProps(dts, iface);
  const schema = { attributes: {}, blocks: {} };
  for (const m of attrsText.matchAll(
    /^\s{8,12}(\w+): \{\n\s+value: (.+),\n\s+isBlock: (true|false),\n\s+type: "(\w+)"/gm,
  )) {
    const [, name, value, isBlock, type] = m;
    const prop = /(?:struct\.|this\._)(\w+)/.exec(value)?.[1];
    if (isBlock === 'true') {
      const fn = /(\w+)ToHclTerraform/.exec(value)[1];
      const nested = body(js, `function ${fn}ToHclTerraform(struct) {`);
      schema.blocks[name] = { nesting: type, required: required.has(prop), ...readStruct(js, dts, nested, pascal(fn)) };
    } else {
      schema.attributes[name] = { type, required: required.has(prop) };
    }
  }
  return schema;
}

function extract(kind, type) {
  const dir = kind === 'data' ? `data-${type.replace(/_/g, '-')}` : type.replace(/^aws_/, '').replace(/_/g, '-');
  const js = readFileSync(join(root, 'lib', dir, 'index.js'), 'utf8');
  const dts = readFileSync(join(root, 'lib', dir, 'index.d.ts'), 'utf8');
  const cls = /export declare class (\w+) extends cdktf\.Terraform(Resource|DataSource)/.exec(dts)[1];
  const attrs = body(js, 'synthesizeHclAttributes() {');
  return readStruct(js, dts, attrs, `${cls}Config`);
}

const out = {
  source: { package: pkg.name, version: pkg.version, provider: 'hashicorp/aws 6.25.0', overlay: 'see OVERLAY' },
  resource: {},
  data: {},
};
for (const kind of ['resource', 'data']) {
  for (const type of Object.keys(hcl[kind] ?? {}).sort()) {
    if (!type.startsWith('aws_')) continue;
    out[kind][type] = extract(kind, type);
    for (const [name, attr] of Object.entries(OVERLAY[type] ?? {})) out[kind][type].attributes[name] = attr;
  }
}
process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
