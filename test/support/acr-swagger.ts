/**
 * A small validator of ACR data-plane answers against the swagger's definitions (the extract in
 * test/fixtures/acr-data-plane/, api-version 2021-07-01): the few Swagger 2.0 schema features those
 * definitions use — `$ref`, object properties and `required`, arrays, strings with `date-time` and
 * enums (open when `x-ms-enum.modelAsString`), integers, booleans. Unknown properties are reported:
 * a fake must not invent fields. No JSON-schema library is in node_modules, and these definitions
 * need none.
 */
import { readFileSync } from 'node:fs';

export interface SchemaObject {
  readonly $ref?: string;
  readonly type?: string;
  readonly format?: string;
  readonly required?: readonly string[];
  readonly properties?: Record<string, SchemaObject>;
  readonly items?: SchemaObject;
  readonly enum?: readonly string[];
  readonly 'x-ms-enum'?: { readonly modelAsString?: boolean };
  readonly 'x-nullable'?: boolean;
}

export interface AcrSwagger {
  readonly source: string;
  readonly paths: Record<
    string,
    Record<string, { operationId: string; responses: Record<string, SchemaObject | null> }>
  >;
  readonly definitions: Record<string, SchemaObject>;
}

/** The pinned extract. */
export function loadAcrSwagger(
  path = new URL('../fixtures/acr-data-plane/containerregistry-2021-07-01.extract.json', import.meta.url),
): AcrSwagger {
  return JSON.parse(readFileSync(path, 'utf8')) as AcrSwagger;
}

/** RFC 3339 date-time, as Swagger's `format: date-time` means. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const typeName = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

/** Every way `value` breaks `schema`, each as `path: problem`. */
export function validateSchema(swagger: AcrSwagger, schema: SchemaObject, value: unknown, path: string): string[] {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/definitions/', '');
    const target = swagger.definitions[name];
    if (!target) return [`${path}: ${schema.$ref} is not in the extract`];
    if (value === null && schema['x-nullable']) return [];
    return validateSchema(swagger, target, value, path);
  }
  const problems: string[] = [];
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  switch (type) {
    case 'object': {
      if (typeName(value) !== 'object') return [`${path}: expected an object, got ${typeName(value)}`];
      const record = value as Record<string, unknown>;
      for (const required of schema.required ?? []) {
        if (record[required] === undefined) problems.push(`${path}: missing required ${required}`);
      }
      if (!schema.properties) break; // a free-form object (AcrErrorInfo.detail)
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties[key];
        if (!property) problems.push(`${path}: unknown property ${key}`);
        else problems.push(...validateSchema(swagger, property, item, `${path}.${key}`));
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array, got ${typeName(value)}`];
      value.forEach((item, i) => {
        problems.push(...validateSchema(swagger, schema.items ?? {}, item, `${path}[${i}]`));
      });
      break;
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected a string, got ${typeName(value)}`];
      if (schema.format === 'date-time' && !DATE_TIME.test(value))
        problems.push(`${path}: '${value}' is not a date-time`);
      if (schema.enum && !schema['x-ms-enum']?.modelAsString && !schema.enum.includes(value)) {
        problems.push(`${path}: '${value}' is not one of ${schema.enum.join(', ')}`);
      }
      break;
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${path}: expected an integer, got ${JSON.stringify(value)}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean, got ${typeName(value)}`);
      break;
    case undefined:
      break;
    default:
      problems.push(`${path}: schema type ${type} is not one this validator knows`);
  }
  return problems;
}

/** The swagger path template (`/acr/v1/{name}/_tags/{reference}`) a request path matches, if any. */
export function matchPath(swagger: AcrSwagger, method: string, path: string): string | undefined {
  const candidates = Object.keys(swagger.paths).filter((template) => swagger.paths[template]![method.toLowerCase()]);
  // Longest template first, so `/_tags/{reference}` wins over `/{name}` swallowing it.
  candidates.sort((a, b) => b.length - a.length);
  return candidates.find((template) => {
    const pattern = template
      .split(/(\{name\}|\{[a-z]+\})/)
      .map((part) =>
        part === '{name}' ? '.+' : /^\{[a-z]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
      )
      .join('');
    return new RegExp(`^${pattern}$`).test(path);
  });
}

/**
 * Every way one answer breaks the swagger: its operation must exist; a status the operation lists
 * is checked against that response's schema, any other against `default` (AcrErrors).
 */
export function validateAnswer(
  swagger: AcrSwagger,
  answer: { method: string; path: string; status: number; body?: unknown },
): string[] {
  const where = `${answer.method} ${answer.path} → ${answer.status}`;
  const template = matchPath(swagger, answer.method, answer.path);
  if (!template) return [`${where}: no such operation in the swagger`];
  const operation = swagger.paths[template]![answer.method.toLowerCase()]!;
  const declared = String(answer.status) in operation.responses;
  const schema = declared ? operation.responses[String(answer.status)] : operation.responses['default'];
  if (schema === undefined) return [`${where}: status not declared and no default response`];
  if (schema === null || schema.$ref === '#/definitions/ManifestWrapper') return [];
  if (!declared && answer.status < 400) return [`${where}: success status not declared by ${operation.operationId}`];
  if (answer.body === undefined) return [`${where}: no body, expected ${schema.$ref}`];
  return validateSchema(swagger, schema, answer.body, `${operation.operationId}(${answer.status})`);
}
