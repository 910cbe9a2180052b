/**
 * A validator of awsJson1_1 bodies against botocore's ECR service model (the pinned extract in
 * test/fixtures/ecr-model.json, made by scripts/extract-ecr-model.py): structures (required and
 * unknown members), lists (min/max), strings (enum, length), numbers (range), timestamps (epoch
 * seconds, as the JSON protocols send them) and the error shapes each operation declares.
 */
import { readFileSync } from 'node:fs';

export interface ShapeRef {
  readonly shape: string;
}

export interface Shape {
  readonly type: string;
  readonly members?: Record<string, ShapeRef>;
  readonly required?: readonly string[];
  readonly member?: ShapeRef;
  readonly key?: ShapeRef;
  readonly value?: ShapeRef;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly exception?: boolean;
}

export interface ServiceModel {
  readonly source: string;
  readonly metadata: Record<string, string>;
  readonly operations: Record<string, { input: string; output: string; errors: readonly string[] }>;
  readonly shapes: Record<string, Shape>;
}

/**
 * Errors any AWS JSON service may answer whatever the operation declares (auth, throttling,
 * serialization): botocore lists them nowhere per operation.
 */
export const COMMON_AWS_ERRORS = new Set([
  'AccessDeniedException',
  'ThrottlingException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'InvalidSignatureException',
  'SerializationException',
  'UnknownOperationException',
  'ValidationException',
  'InternalFailure',
  'ServiceUnavailable',
]);

/** The pinned ECR model. */
export function loadEcrModel(path = new URL('../fixtures/ecr-model.json', import.meta.url)): ServiceModel {
  return JSON.parse(readFileSync(path, 'utf8')) as ServiceModel;
}

const typeName = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

/** Every way `value` breaks shape `name`, each as `path: problem`; empty when it conforms. */
export function validateShape(model: ServiceModel, name: string, value: unknown, path = '$'): string[] {
  const shape = model.shapes[name];
  if (!shape) return [`${path}: shape ${name} is not in the model`];
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${path}: ${what} (shape ${name})`);
    return ok;
  };
  switch (shape.type) {
    case 'structure': {
      if (!expect(typeName(value) === 'object', `expected an object, got ${typeName(value)}`)) break;
      const record = value as Record<string, unknown>;
      for (const required of shape.required ?? []) expect(record[required] !== undefined, `missing ${required}`);
      for (const [member, memberValue] of Object.entries(record)) {
        const ref = shape.members?.[member];
        // `__type` and `message` of an error body are the protocol's own, checked by the caller.
        if (shape.exception && member === '__type') continue;
        if (!expect(ref !== undefined, `unknown member ${member}`) || memberValue === undefined) continue;
        problems.push(...validateShape(model, ref!.shape, memberValue, `${path}.${member}`));
      }
      break;
    }
    case 'list': {
      if (!expect(Array.isArray(value), `expected a list, got ${typeName(value)}`)) break;
      const items = value as unknown[];
      if (shape.min !== undefined) expect(items.length >= shape.min, `${items.length} items, fewer than ${shape.min}`);
      if (shape.max !== undefined) expect(items.length <= shape.max, `${items.length} items, more than ${shape.max}`);
      items.forEach((item, i) => {
        problems.push(...validateShape(model, shape.member!.shape, item, `${path}[${i}]`));
      });
      break;
    }
    case 'map': {
      if (!expect(typeName(value) === 'object', `expected a map, got ${typeName(value)}`)) break;
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        problems.push(...validateShape(model, shape.key!.shape, key, `${path}{key}`));
        problems.push(...validateShape(model, shape.value!.shape, item, `${path}.${key}`));
      }
      break;
    }
    case 'string': {
      if (!expect(typeof value === 'string', `expected a string, got ${typeName(value)}`)) break;
      const text = value as string;
      if (shape.enum) expect(shape.enum.includes(text), `'${text}' is not one of ${shape.enum.join(', ')}`);
      if (shape.min !== undefined) expect(text.length >= shape.min, `shorter than ${shape.min}`);
      if (shape.max !== undefined) expect(text.length <= shape.max, `longer than ${shape.max}`);
      break;
    }
    case 'integer':
    case 'long': {
      if (!expect(Number.isInteger(value), `expected an integer, got ${JSON.stringify(value)}`)) break;
      const number = value as number;
      if (shape.min !== undefined) expect(number >= shape.min, `${number} < ${shape.min}`);
      if (shape.max !== undefined) expect(number <= shape.max, `${number} > ${shape.max}`);
      break;
    }
    case 'float':
    case 'double':
      expect(typeof value === 'number', `expected a number, got ${typeName(value)}`);
      break;
    case 'boolean':
      expect(typeof value === 'boolean', `expected a boolean, got ${typeName(value)}`);
      break;
    case 'timestamp':
      // awsJson1_1 sends timestamps as epoch seconds (numbers), never as ISO strings.
      expect(typeof value === 'number' && Number.isFinite(value), `expected epoch seconds, got ${typeName(value)}`);
      break;
    case 'blob':
      expect(typeof value === 'string', `expected base64 text, got ${typeName(value)}`);
      break;
    default:
      problems.push(`${path}: shape ${name} has type ${shape.type}, which this validator does not know`);
  }
  return problems;
}

/**
 * Every way one answer breaks the model: a 200 against the operation's output shape; an error's
 * `__type` must be an error the operation declares (or a common AWS error), its body that shape.
 */
export function validateResponse(
  model: ServiceModel,
  response: { operation: string; status: number; body: unknown },
): string[] {
  const operation = model.operations[response.operation];
  if (!operation) return [`${response.operation}: not an operation of the model`];
  if (response.status === 200) return validateShape(model, operation.output, response.body, response.operation);
  const type = (response.body as { __type?: unknown }).__type;
  if (typeof type !== 'string') return [`${response.operation}: error ${response.status} without __type`];
  if (COMMON_AWS_ERRORS.has(type)) return [];
  if (!operation.errors.includes(type)) {
    return [`${response.operation}: error ${type} is not declared (declared: ${operation.errors.join(', ')})`];
  }
  return validateShape(model, type, response.body, `${response.operation}!${type}`);
}

/**
 * How `pinned` contradicts an older model of the same service (`installed`): for every shape both
 * have, the same type and bounds, and the pin's members and enum values a superset (models only grow).
 */
export function contradictions(pinned: ServiceModel, installed: { shapes: Record<string, Shape> }): string[] {
  const found: string[] = [];
  for (const [name, shape] of Object.entries(pinned.shapes)) {
    const old = installed.shapes[name];
    if (!old) continue;
    if (old.type !== shape.type) found.push(`${name}: type ${old.type} installed, ${shape.type} pinned`);
    if (old.min !== shape.min || old.max !== shape.max) {
      found.push(`${name}: bounds ${old.min}..${old.max} installed, ${shape.min}..${shape.max} pinned`);
    }
    for (const value of old.enum ?? []) {
      if (!shape.enum?.includes(value)) found.push(`${name}: enum value ${value} installed, not pinned`);
    }
    for (const [member, ref] of Object.entries(old.members ?? {})) {
      const pinnedRef = shape.members?.[member];
      if (!pinnedRef) found.push(`${name}.${member}: installed, not pinned`);
      else if (pinnedRef.shape !== ref.shape) found.push(`${name}.${member}: shape ${ref.shape} installed`);
    }
    for (const required of old.required ?? []) {
      if (!shape.required?.includes(required)) found.push(`${name}: ${required} required installed, not pinned`);
    }
  }
  return found;
}
