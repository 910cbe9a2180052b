/**
 * Holds a wire fake to an AWS service's published model: botocore's service-2.json, as Debian's
 * python3-botocore ships it (an independent spec of the service, not derived from the SDK we
 * test). `violations()` walks a JSON value against a shape: unknown and missing required members,
 * types, enums, list and string lengths, numeric ranges. Timestamps on the JSON protocols are epoch
 * seconds (numbers); rest-json's default is ISO 8601 text (`timestampFormat` overrides either).
 */
import { existsSync, readFileSync } from 'node:fs';

interface Shape {
  readonly type: string;
  readonly members?: Record<string, { readonly shape: string; readonly location?: string }>;
  readonly required?: readonly string[];
  readonly member?: { readonly shape: string };
  readonly key?: { readonly shape: string };
  readonly value?: { readonly shape: string };
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly timestampFormat?: string;
}

export interface ServiceModel {
  readonly metadata: { readonly protocol: string; readonly targetPrefix?: string };
  readonly operations: Record<
    string,
    { readonly input?: { shape: string }; readonly output?: { shape: string }; readonly errors?: { shape: string }[] }
  >;
  readonly shapes: Record<string, Shape>;
}

const BOTOCORE = '/usr/lib/python3/dist-packages/botocore/data';

/** The path of a service's model, or null when python3-botocore is not installed. */
export function botocoreModelPath(service: string, version: string): string | null {
  const path = `${BOTOCORE}/${service}/${version}/service-2.json`;
  return existsSync(path) ? path : null;
}

export function loadModel(path: string): ServiceModel {
  return JSON.parse(readFileSync(path, 'utf8')) as ServiceModel;
}

/** Where `value` breaks shape `name` of the model; empty when it conforms. Body members only. */
export function violations(model: ServiceModel, name: string, value: unknown, path = '$'): string[] {
  const shape = model.shapes[name];
  if (shape === undefined) return [`${path}: shape ${name} is not in the model`];
  const problems: string[] = [];
  const restJson = model.metadata.protocol === 'rest-json';
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
      const record = value as Record<string, unknown>;
      const members = shape.members ?? {};
      for (const key of Object.keys(record)) {
        const member = members[key];
        if (member === undefined) problems.push(`${path}.${key}: not a member of ${name}`);
        else if (record[key] !== undefined)
          problems.push(...violations(model, member.shape, record[key], `${path}.${key}`));
      }
      for (const required of shape.required ?? []) {
        const location = members[required]?.location;
        if (location === undefined && record[required] === undefined) {
          problems.push(`${path}.${required}: required by ${name}`);
        }
      }
      return problems;
    }
    case 'list': {
      if (!Array.isArray(value)) return [`${path}: expected a list`];
      problems.push(...lengthProblems(shape, value.length, path, 'items'));
      value.forEach((item, at) => {
        problems.push(...violations(model, shape.member!.shape, item, `${path}[${at}]`));
      });
      return problems;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null) return [`${path}: expected a map`];
      for (const [key, item] of Object.entries(value)) {
        problems.push(...violations(model, shape.value!.shape, item, `${path}.${key}`));
      }
      return problems;
    }
    case 'string': {
      if (typeof value !== 'string') return [`${path}: expected a string`];
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        problems.push(`${path}: "${value}" is not one of ${name}'s values (${shape.enum.join(', ')})`);
      }
      return [...problems, ...lengthProblems(shape, value.length, path, 'characters')];
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      if (typeof value !== 'number') return [`${path}: expected a number`];
      if (shape.min !== undefined && value < shape.min) problems.push(`${path}: ${value} < min ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) problems.push(`${path}: ${value} > max ${shape.max}`);
      return problems;
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
    case 'timestamp': {
      const format = shape.timestampFormat ?? (restJson ? 'iso8601' : 'unixTimestamp');
      if (format === 'unixTimestamp') return typeof value === 'number' ? [] : [`${path}: expected epoch seconds`];
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? [] : [`${path}: expected a timestamp`];
    }
    case 'blob':
      return typeof value === 'string' ? [] : [`${path}: expected base64 text`];
    default:
      return [`${path}: shape type ${shape.type} not checked`];
  }
}

function lengthProblems(shape: Shape, length: number, path: string, unit: string): string[] {
  if (shape.min !== undefined && length < shape.min) return [`${path}: ${length} ${unit} < min ${shape.min}`];
  if (shape.max !== undefined && length > shape.max) return [`${path}: ${length} ${unit} > max ${shape.max}`];
  return [];
}
