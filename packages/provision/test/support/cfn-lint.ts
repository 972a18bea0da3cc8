import { spawnSync } from 'node:child_process';

import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';

/**
 * An offline CloudFormation template lint against AWS's own resource specification (`@aws-cdk/aws-service-spec`,
 * the database the CDK is generated from). `lintTemplate` returns one message per problem, `<path>: <what>`;
 * an empty list means the template passed every check listed in `CHECKS`.
 */
export const CHECKS = [
  'top-level sections, resource and parameter attribute names are CloudFormation ones',
  'every resource Type exists in the specification',
  'every property name exists on its resource or property type, every required property is present',
  'literal property values have the specification shape (string, number, boolean, array, map, nested types, tags); intrinsic functions are accepted anywhere a value is',
  'every Ref names a parameter, a resource or a pseudo parameter',
  'every Fn::GetAtt names a resource of the template and an attribute the specification lists for its type',
  'every ${Name} and ${Resource.Attribute} in Fn::Sub resolves the same way (${!literal} skipped)',
  'every Condition and Fn::If names a declared condition; DependsOn names resources; no unknown Fn:: function',
  'a resource that has a Condition is referenced only under that condition (its own Condition, or the true branch of an Fn::If on it)',
  'every cfn-signal --resource in a UserData script names a resource with a CreationPolicy, and every ResourceSignal CreationPolicy is signalled by some UserData',
  'parameter Types are CloudFormation parameter types; a Default satisfies AllowedValues, AllowedPattern, Min/MaxValue and Min/MaxLength',
  'every parameter is used (cfn-lint W2001)',
  'parameters that are secrets (password, secret, license in the name) have NoEcho true',
  'the template text e3 sends is at most 51,200 bytes (the inline TemplateBody limit)',
  'each UserData script is at most 16 KB and, with every ${…} replaced by a sample value, passes bash -n',
] as const;

export const TEMPLATE_BODY_LIMIT = 51_200;
export const USER_DATA_LIMIT = 16_384;

const PSEUDO = new Set(['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix']);
const TOP_LEVEL = new Set(['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Rules', 'Mappings', 'Conditions', 'Transform', 'Resources', 'Outputs']);
const RESOURCE_KEYS = new Set(['Type', 'Properties', 'DependsOn', 'Condition', 'CreationPolicy', 'UpdatePolicy', 'DeletionPolicy', 'UpdateReplacePolicy', 'Metadata']);
const PARAMETER_KEYS = new Set(['Type', 'Default', 'Description', 'AllowedValues', 'AllowedPattern', 'ConstraintDescription', 'MinLength', 'MaxLength', 'MinValue', 'MaxValue', 'NoEcho']);
const AWS_PARAMETER_TYPES = [
  'AWS::EC2::AvailabilityZone::Name',
  'AWS::EC2::Image::Id',
  'AWS::EC2::Instance::Id',
  'AWS::EC2::KeyPair::KeyName',
  'AWS::EC2::SecurityGroup::GroupName',
  'AWS::EC2::SecurityGroup::Id',
  'AWS::EC2::Subnet::Id',
  'AWS::EC2::Volume::Id',
  'AWS::EC2::VPC::Id',
  'AWS::Route53::HostedZone::Id',
];
const SIMPLE_PARAMETER_TYPES = new Set(['String', 'Number', 'List<Number>', 'CommaDelimitedList', 'AWS::SSM::Parameter::Name', ...AWS_PARAMETER_TYPES, ...AWS_PARAMETER_TYPES.map((t) => `List<${t}>`)]);
const SSM_VALUE = /^AWS::SSM::Parameter::Value<(.+)>$/;
const INTRINSICS = new Set(['Ref', 'Condition', 'Fn::Base64', 'Fn::Cidr', 'Fn::FindInMap', 'Fn::GetAtt', 'Fn::GetAZs', 'Fn::ImportValue', 'Fn::Join', 'Fn::Length', 'Fn::Select', 'Fn::Split', 'Fn::Sub', 'Fn::ToJsonString', 'Fn::Transform', 'Fn::If', 'Fn::Equals', 'Fn::And', 'Fn::Or', 'Fn::Not']);
const SECRET_NAME = /password|secret|license/i;

let specDb: SpecDatabase | undefined;
/** The specification database, loaded once per process (about a second). */
export function spec(): SpecDatabase {
  specDb ??= loadAwsServiceSpecSync();
  return specDb;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A one-key object whose key is an intrinsic function (`Ref`, `Fn::…`). */
function intrinsicKey(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const k = keys[0]!;
  return k === 'Ref' || k.startsWith('Fn::') ? k : undefined;
}

interface Ctx {
  db: SpecDatabase;
  t: Obj;
  params: Obj;
  resources: Obj;
  conditions: Obj;
  used: Set<string>;
  issues: string[];
  /** Conditions known true where the walk is (a resource's or output's Condition, an Fn::If's true branch). */
  active: ReadonlySet<string>;
}

export interface LintOptions {
  /** The template text as e3 sends it (default: `JSON.stringify(template, null, 2)` plus a newline). */
  text?: string;
  /** Check UserData with `bash -n` (default true). */
  bash?: boolean;
}

/** Every problem found in `template` (a parsed CloudFormation JSON template); empty when it passes. */
export function lintTemplate(template: unknown, options: LintOptions = {}): string[] {
  if (!isObj(template)) return ['template: not a JSON object'];
  const c: Ctx = {
    db: spec(),
    t: template,
    params: isObj(template.Parameters) ? template.Parameters : {},
    resources: isObj(template.Resources) ? template.Resources : {},
    conditions: isObj(template.Conditions) ? template.Conditions : {},
    used: new Set(),
    issues: [],
    active: new Set(),
  };
  for (const k of Object.keys(template)) if (!TOP_LEVEL.has(k)) c.issues.push(`${k}: not a template section`);
  if (Object.keys(c.resources).length === 0) c.issues.push('Resources: none (CloudFormation needs at least one)');
  for (const [name, cond] of Object.entries(c.conditions)) walk(c, cond, `Conditions.${name}`);
  for (const [name, r] of Object.entries(c.resources)) lintResource(c, name, r);
  for (const [name, o] of Object.entries(isObj(template.Outputs) ? template.Outputs : {})) lintOutput(c, name, o);
  for (const [name, p] of Object.entries(c.params)) lintParameter(c, name, p);
  const text = options.text ?? `${JSON.stringify(template, null, 2)}\n`;
  const size = Buffer.byteLength(text);
  if (size > TEMPLATE_BODY_LIMIT) c.issues.push(`template: ${size} bytes, over CloudFormation's ${TEMPLATE_BODY_LIMIT}-byte TemplateBody limit`);
  const signalled = new Set<string>();
  for (const [path, userData] of findUserData(c.resources, 'Resources')) lintUserData(c, path, userData, options.bash ?? true, signalled);
  for (const [name, r] of Object.entries(c.resources)) {
    if (isObj(r) && isObj(r.CreationPolicy) && r.CreationPolicy.ResourceSignal !== undefined && !signalled.has(name)) c.issues.push(`Resources.${name}.CreationPolicy: no UserData runs cfn-signal --resource ${name}`);
  }
  return c.issues;
}

function lintResource(outer: Ctx, name: string, r: Json): void {
  const path = `Resources.${name}`;
  if (!isObj(r)) return void outer.issues.push(`${path}: not an object`);
  const c: Ctx = typeof r.Condition === 'string' ? { ...outer, active: new Set([r.Condition]) } : outer;
  for (const k of Object.keys(r)) if (!RESOURCE_KEYS.has(k)) c.issues.push(`${path}.${k}: not a resource attribute`);
  if (r.Condition !== undefined) checkCondition(c, r.Condition, `${path}.Condition`);
  for (const dep of r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn]) {
    if (typeof dep !== 'string' || !(dep in c.resources)) c.issues.push(`${path}.DependsOn: ${JSON.stringify(dep)} is not a resource of the template`);
  }
  for (const k of ['CreationPolicy', 'UpdatePolicy', 'Metadata'] as const) if (r[k] !== undefined) walk(c, r[k], `${path}.${k}`);
  const type = typeof r.Type === 'string' ? r.Type : '';
  const res = resourceType(c.db, type);
  if (!res) return void c.issues.push(`${path}.Type: ${JSON.stringify(r.Type)} is not a CloudFormation resource type`);
  if (r.Properties !== undefined && !isObj(r.Properties)) return void c.issues.push(`${path}.Properties: not an object`);
  checkObject(c, (r.Properties ?? {}) as Obj, res.properties, `${path}.Properties`, type);
}

function lintOutput(outer: Ctx, name: string, o: Json): void {
  const path = `Outputs.${name}`;
  if (!isObj(o) || o.Value === undefined) return void outer.issues.push(`${path}: needs a Value`);
  const c: Ctx = typeof o.Condition === 'string' ? { ...outer, active: new Set([o.Condition]) } : outer;
  if (o.Condition !== undefined) checkCondition(c, o.Condition, `${path}.Condition`);
  walk(c, o.Value, `${path}.Value`);
  if (o.Export !== undefined) walk(c, o.Export, `${path}.Export`);
}

function resourceType(db: SpecDatabase, type: string): Resource | undefined {
  return db.lookup('resource', 'cloudFormationType', 'equals', type)[0];
}

function checkCondition(c: Ctx, name: Json, path: string): void {
  if (typeof name !== 'string' || !(name in c.conditions)) c.issues.push(`${path}: ${JSON.stringify(name)} is not a declared condition`);
}

/** Properties of a resource or a property type: names known, required ones present, values shaped. */
function checkObject(c: Ctx, value: Obj, props: Record<string, { required?: boolean; type: PropertyType; previousTypes?: PropertyType[] }>, path: string, owner: string): void {
  for (const [k, v] of Object.entries(value)) {
    const p = props[k];
    if (!p) {
      c.issues.push(`${path}.${k}: no property ${k} on ${owner}`);
      walk(c, v, `${path}.${k}`);
      continue;
    }
    checkValue(c, v, [p.type, ...(p.previousTypes ?? [])], `${path}.${k}`);
  }
  for (const [k, p] of Object.entries(props)) if (p.required && value[k] === undefined) c.issues.push(`${path}: required property ${k} of ${owner} is missing`);
}

/** A value against any of `types`: the first that fits wins; else the problems of the closest. */
function checkValue(c: Ctx, v: Json, types: PropertyType[], path: string): void {
  if (intrinsicKey(v)) return walk(c, v, path);
  let best: string[] | undefined;
  for (const type of types) {
    const sub: Ctx = { ...c, issues: [] };
    checkOne(sub, v, type, path);
    if (sub.issues.length === 0) return;
    if (!best || sub.issues.length < best.length) best = sub.issues;
  }
  c.issues.push(...(best ?? []));
}

function checkOne(c: Ctx, v: Json, type: PropertyType, path: string): void {
  const shape = (ok: boolean, want: string) => {
    if (!ok) c.issues.push(`${path}: ${JSON.stringify(v)?.slice(0, 60)} is not ${want}`);
  };
  switch (type.type) {
    case 'string':
    case 'date-time':
      return shape(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean', 'a string');
    case 'number':
    case 'integer':
      return shape(typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))), type.type === 'integer' ? 'an integer' : 'a number');
    case 'boolean':
      return shape(typeof v === 'boolean' || v === 'true' || v === 'false', 'a boolean');
    case 'null':
      return shape(v === null, 'null');
    case 'json':
      return walk(c, v, path);
    case 'tag':
      shape(isObj(v) && v.Key !== undefined && v.Value !== undefined, 'a tag {Key, Value}');
      return walk(c, v, path);
    case 'array':
      if (!Array.isArray(v)) return shape(false, 'a list');
      return v.forEach((e, i) => checkValue(c, e, [type.element], `${path}[${i}]`));
    case 'map':
      if (!isObj(v)) return shape(false, 'a map');
      return Object.entries(v).forEach(([k, e]) => checkValue(c, e, [type.element], `${path}.${k}`));
    case 'union':
      return checkValue(c, v, type.types, path);
    case 'ref': {
      const def = c.db.get('typeDefinition', type.reference.$ref) as TypeDefinition | undefined;
      if (!def) return walk(c, v, path);
      if (!isObj(v)) return shape(false, `an object (${def.name})`);
      return checkObject(c, v, def.properties, path, def.name);
    }
  }
}

/** Walks any value for intrinsic functions and checks what they name. */
function walk(c: Ctx, v: Json, path: string): void {
  if (Array.isArray(v)) return v.forEach((e, i) => walk(c, e, `${path}[${i}]`));
  if (!isObj(v)) return;
  for (const [k, arg] of Object.entries(v)) {
    const at = `${path}.${k}`;
    if (k.startsWith('Fn::') && !INTRINSICS.has(k)) c.issues.push(`${at}: unknown intrinsic function ${k}`);
    if (k === 'Ref' && Object.keys(v).length === 1) checkRef(c, arg, at);
    else if (k === 'Fn::GetAtt') checkGetAtt(c, arg, at);
    else if (k === 'Fn::Sub') checkSub(c, arg, at);
    else if (k === 'Fn::If' && Array.isArray(arg)) {
      checkCondition(c, arg[0] ?? null, `${at}[0]`);
      const cond = typeof arg[0] === 'string' ? arg[0] : '';
      walk({ ...c, active: new Set([...c.active, cond]) }, arg[1] ?? null, `${at}[1]`);
      walk(c, arg[2] ?? null, `${at}[2]`);
      continue;
    } else if (k === 'Condition' && typeof arg === 'string' && Object.keys(v).length === 1) checkCondition(c, arg, at);
    if (k !== 'Fn::Sub') walk(c, arg, at);
  }
}

function checkRef(c: Ctx, name: Json, path: string): void {
  if (typeof name !== 'string') return void c.issues.push(`${path}: Ref needs a name`);
  if (name in c.params) c.used.add(name);
  else if (name in c.resources) checkConditional(c, name, path);
  else if (!PSEUDO.has(name)) c.issues.push(`${path}: Ref ${name} names no parameter, resource or pseudo parameter`);
}

/** A resource created only under a condition may be named only where that condition holds. */
function checkConditional(c: Ctx, name: string, path: string): void {
  const r = c.resources[name];
  const cond = isObj(r) && typeof r.Condition === 'string' ? r.Condition : undefined;
  if (cond && !c.active.has(cond)) c.issues.push(`${path}: ${name} exists only when ${cond}, but is named outside Fn::If ${cond}`);
}

function checkGetAtt(c: Ctx, arg: Json, path: string): void {
  const [res, attr] = typeof arg === 'string' ? [arg.slice(0, arg.indexOf('.')), arg.slice(arg.indexOf('.') + 1)] : Array.isArray(arg) ? arg : [];
  if (typeof res !== 'string' || typeof attr !== 'string') return void c.issues.push(`${path}: Fn::GetAtt needs [resource, attribute]`);
  const r = c.resources[res];
  if (!isObj(r)) return void c.issues.push(`${path}: Fn::GetAtt ${res}.${attr}: no resource ${res}`);
  checkConditional(c, res, path);
  const spec = resourceType(c.db, String(r.Type));
  if (spec && !(attr in spec.attributes)) c.issues.push(`${path}: Fn::GetAtt ${res}.${attr}: ${r.Type} has no attribute ${attr} (it has ${Object.keys(spec.attributes).join(', ') || 'none'})`);
}

function checkSub(c: Ctx, arg: Json, path: string): void {
  const [text, vars] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? [arg[0], arg[1] ?? {}] : [undefined, {}];
  if (typeof text !== 'string' || !isObj(vars)) return void c.issues.push(`${path}: Fn::Sub needs a string or [string, {variables}]`);
  walk(c, vars, `${path}[1]`);
  for (const name of subNames(text)) {
    if (name in vars) continue;
    const dot = name.indexOf('.');
    if (dot > 0) checkGetAtt(c, [name.slice(0, dot), name.slice(dot + 1)], `${path} \${${name}}`);
    else checkRef(c, name, `${path} \${${name}}`);
  }
}

/** The names in `${…}` of a Fn::Sub string; `${!…}` is a literal. */
export function subNames(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!).filter((n) => !n.startsWith('!')).map((n) => n.trim());
}

function lintParameter(c: Ctx, name: string, p: Json): void {
  const path = `Parameters.${name}`;
  if (!isObj(p)) return void c.issues.push(`${path}: not an object`);
  for (const k of Object.keys(p)) if (!PARAMETER_KEYS.has(k)) c.issues.push(`${path}.${k}: not a parameter attribute`);
  const type = String(p.Type);
  if (!SIMPLE_PARAMETER_TYPES.has(type) && !SSM_VALUE.test(type)) c.issues.push(`${path}.Type: ${JSON.stringify(p.Type)} is not a CloudFormation parameter type`);
  if (!c.used.has(name)) c.issues.push(`${path}: declared but never used (W2001)`);
  if (SECRET_NAME.test(name) && p.NoEcho !== true && p.NoEcho !== 'true') c.issues.push(`${path}: a secret needs "NoEcho": true`);
  if (p.Default !== undefined) checkDefault(c, p, String(p.Default), path);
}

function checkDefault(c: Ctx, p: Obj, d: string, path: string): void {
  const bad = (why: string) => c.issues.push(`${path}.Default: ${JSON.stringify(d)} ${why}`);
  const values = /List|CommaDelimited/.test(String(p.Type)) ? d.split(',') : [d];
  if (Array.isArray(p.AllowedValues) && !values.every((x) => (p.AllowedValues as Json[]).map(String).includes(x))) bad('is not one of AllowedValues');
  if (typeof p.AllowedPattern === 'string' && !values.every((x) => new RegExp(`^(?:${p.AllowedPattern as string})$`).test(x))) bad(`does not match AllowedPattern ${p.AllowedPattern}`);
  if (p.Type === 'Number' && !Number.isFinite(Number(d))) bad('is not a number');
  if (p.MinValue !== undefined && Number(d) < Number(p.MinValue)) bad(`is below MinValue ${p.MinValue}`);
  if (p.MaxValue !== undefined && Number(d) > Number(p.MaxValue)) bad(`is above MaxValue ${p.MaxValue}`);
  if (p.MinLength !== undefined && d.length < Number(p.MinLength)) bad(`is shorter than MinLength ${p.MinLength}`);
  if (p.MaxLength !== undefined && d.length > Number(p.MaxLength)) bad(`is longer than MaxLength ${p.MaxLength}`);
}

/** Every `UserData` property in the resources, with its path. */
function findUserData(v: Json, path: string): Array<[string, Json]> {
  if (Array.isArray(v)) return v.flatMap((e, i) => findUserData(e, `${path}[${i}]`));
  if (!isObj(v)) return [];
  return Object.entries(v).flatMap(([k, e]) => (k === 'UserData' ? [[`${path}.${k}`, e] as [string, Json]] : findUserData(e, `${path}.${k}`)));
}

/** The script of a UserData `Fn::Base64` of a string or an `Fn::Sub`, with `${…}` replaced by sample values. */
export function userDataScript(userData: Json, params: Obj): string | undefined {
  const inner = isObj(userData) ? userData['Fn::Base64'] : undefined;
  const sub = isObj(inner) ? inner['Fn::Sub'] : inner;
  const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
  if (text === undefined) return undefined;
  return text.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    const p = params[name.trim()];
    return isObj(p) && p.Default !== undefined && p.Default !== '' ? String(p.Default) : `sample-${name.trim().replace(/[^A-Za-z0-9]/g, '-')}`;
  });
}

function lintUserData(c: Ctx, path: string, userData: Json, bash: boolean, signalled: Set<string>): void {
  const script = userDataScript(userData, c.params);
  if (script === undefined) return void c.issues.push(`${path}: not Fn::Base64 of a string or of an Fn::Sub string, so it cannot be checked`);
  for (const [, name] of script.matchAll(/cfn-signal\b[^\n]*--resource\s+([A-Za-z0-9]+)/g)) {
    signalled.add(name!);
    const r = c.resources[name!];
    if (!isObj(r) || !isObj(r.CreationPolicy)) c.issues.push(`${path}: cfn-signal --resource ${name} names no resource with a CreationPolicy`);
  }
  const size = Buffer.byteLength(script);
  if (size > USER_DATA_LIMIT) c.issues.push(`${path}: the script is ${size} bytes, over EC2's ${USER_DATA_LIMIT}-byte UserData limit`);
  if (!bash) return;
  const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) c.issues.push(`${path}: bash -n fails: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(0, 3).join(' | ')}`);
}
