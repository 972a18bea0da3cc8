/**
 * CloudFormation's parameter handling, as the fake AWS applies it to a CreateStack with a TemplateBody:
 * the checks CreateStack answers with a ValidationError (undeclared, missing, constraint), the checks of
 * AWS-specific types that fail the stack afterwards ("Parameter validation failed: …", the stack rolls
 * back), and the values parameters take (passed, else `Default`). Messages are worded as CloudFormation's.
 */

export interface TemplateParameter {
  Type?: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinValue?: unknown;
  MaxValue?: unknown;
  MinLength?: unknown;
  MaxLength?: unknown;
  ConstraintDescription?: string;
}

export interface ParsedTemplate {
  Parameters?: Record<string, TemplateParameter>;
  Outputs?: Record<string, { Value?: unknown }>;
  Resources?: Record<string, unknown>;
}

export interface ParameterOutcome {
  /** CreateStack's ValidationError message, when it refuses the call. */
  validationError?: string;
  /** The stack's failure reason when an AWS-specific value does not exist (the stack rolls back). */
  stackFailure?: string;
  /** Every declared parameter's value: passed, else its Default. */
  values: Record<string, string>;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The template body parsed as JSON (e3's templates are JSON), or CloudFormation's format error. */
export function parseTemplate(body: string): ParsedTemplate | { formatError: string } {
  try {
    const t = JSON.parse(body) as ParsedTemplate;
    if (typeof t !== 'object' || t === null || !t.Resources || !Object.keys(t.Resources).length) return { formatError: 'Template format error: At least one Resources member must be defined.' };
    return t;
  } catch {
    return { formatError: 'Template format error: JSON not well-formed.' };
  }
}

/** The list items of a `List<…>`/`CommaDelimitedList` value, else the value itself. */
function items(type: string, value: string): string[] {
  return type === 'CommaDelimitedList' || type.startsWith('List<') ? value.split(',').map((v) => v.trim()) : [value];
}

/** The element type of `List<X>`, else the type. */
const elementType = (type: string): string => /^List<(.+)>$/.exec(type)?.[1] ?? type;

/** The constraint a value breaks, worded as CloudFormation words it (the ConstraintDescription replaces it). */
function constraintError(name: string, p: TemplateParameter, value: string): string | undefined {
  const type = p.Type ?? 'String';
  const fail = (text: string) => (p.ConstraintDescription ? `Parameter ${name} failed to satisfy constraint: ${p.ConstraintDescription}` : text);
  for (const v of items(type, value)) {
    const numeric = elementType(type) === 'Number';
    if (numeric && !NUMBER.test(v)) return `Parameter '${name}' must be a number`;
    if (p.AllowedValues && !p.AllowedValues.map(String).includes(v)) return fail(`Parameter '${name}' must be one of AllowedValues`);
    if (p.AllowedPattern !== undefined && !new RegExp(`^(?:${p.AllowedPattern})$`).test(v)) return fail(`Parameter '${name}' must match pattern ${p.AllowedPattern}`);
    if (numeric && p.MinValue !== undefined && Number(v) < Number(p.MinValue)) return fail(`Parameter '${name}' must be a number not less than ${p.MinValue}`);
    if (numeric && p.MaxValue !== undefined && Number(v) > Number(p.MaxValue)) return fail(`Parameter '${name}' must be a number not greater than ${p.MaxValue}`);
    if (!numeric && p.MinLength !== undefined && v.length < Number(p.MinLength)) return fail(`Parameter '${name}' must contain at least ${p.MinLength} characters`);
    if (!numeric && p.MaxLength !== undefined && v.length > Number(p.MaxLength)) return fail(`Parameter '${name}' must contain at most ${p.MaxLength} characters`);
  }
  return undefined;
}

const ID_SHAPES: Record<string, RegExp> = {
  'AWS::EC2::VPC::Id': /^vpc-[0-9a-z]+$/,
  'AWS::EC2::Subnet::Id': /^subnet-[0-9a-z]+$/,
  'AWS::EC2::SecurityGroup::Id': /^sg-[0-9a-z]+$/,
  'AWS::EC2::Image::Id': /^ami-[0-9a-z]+$/,
  'AWS::EC2::Instance::Id': /^i-[0-9a-z]+$/,
};

/** An AWS-specific value that does not exist: CloudFormation fails the stack with this reason. */
function existenceError(name: string, p: TemplateParameter, value: string, keyPairs: ReadonlySet<string>): string | undefined {
  const type = p.Type ?? 'String';
  const el = elementType(type);
  if (el.startsWith('AWS::SSM::Parameter::')) return undefined;
  for (const v of items(type, value)) {
    const missing = el === 'AWS::EC2::KeyPair::KeyName' ? !keyPairs.has(v) : ID_SHAPES[el] ? !ID_SHAPES[el]!.test(v) : false;
    if (missing) return `Parameter validation failed: parameter value ${v} for parameter name ${name} does not exist. Rollback requested by user.`;
  }
  return undefined;
}

/** CloudFormation's checks of `passed` against the template's Parameters, in its order. */
export function checkParameters(template: ParsedTemplate, passed: Record<string, string>, keyPairs: ReadonlySet<string>): ParameterOutcome {
  const declared = template.Parameters ?? {};
  const values: Record<string, string> = {};
  const undeclared = Object.keys(passed).filter((k) => !(k in declared));
  if (undeclared.length) return { validationError: `Parameters: [${undeclared.join(', ')}] do not exist in the template`, values };
  const missing = Object.entries(declared)
    .filter(([k, p]) => passed[k] === undefined && p.Default === undefined)
    .map(([k]) => k);
  if (missing.length) return { validationError: `Parameters: [${missing.join(', ')}] must have values`, values };
  for (const [k, p] of Object.entries(declared)) values[k] = passed[k] ?? String(p.Default);
  for (const [k, p] of Object.entries(declared)) {
    const err = constraintError(k, p, values[k]!);
    if (err) return { validationError: err, values };
  }
  for (const [k, p] of Object.entries(declared)) {
    const err = existenceError(k, p, values[k]!, keyPairs);
    if (err) return { stackFailure: err, values };
  }
  return { values };
}

/** Where the fake's auto scaling group of an output lives, and how many instances it runs. */
export interface FakeGroup {
  name: string;
  desired: number;
}

/**
 * The stack's outputs: every key of the template's `Outputs`, a literal string `Value` as written,
 * otherwise a plausible value chosen by key; a group output also makes a group of `ClusterSize` (workers)
 * or `ClusterNodeMin` (Data Center) instances.
 */
export function fakeOutputs(template: ParsedTemplate, stackName: string, n: number, values: Record<string, string>): { outputs: Record<string, string>; groups: FakeGroup[] } {
  const outputs: Record<string, string> = {};
  const groups: FakeGroup[] = [];
  for (const [key, o] of Object.entries(template.Outputs ?? {})) {
    if (typeof o.Value === 'string') {
      outputs[key] = o.Value;
      continue;
    }
    const subnet = /^Subnet(\d+)$/.exec(key);
    if (key === 'AutoScalingGroupName' || key === 'ClusterNodeGroup') {
      outputs[key] = `${stackName}-${key === 'ClusterNodeGroup' ? 'nodes' : 'asg'}`;
      groups.push({ name: outputs[key]!, desired: Number(values.ClusterSize ?? values.ClusterNodeMin ?? 1) });
    } else if (key === 'VPC') outputs[key] = `vpc-${n}`;
    else if (subnet) outputs[key] = `subnet-${n}${String.fromCharCode(96 + Number(subnet[1]))}`;
    else if (key === 'URL') outputs[key] = `http://${stackName}.example.com`;
    else if (key === 'InternalURL') outputs[key] = `http://internal-${stackName}.example.com`;
    else if (key === 'SshHost') outputs[key] = `ssh-${n}.example.com`;
    else if (key === 'PublicIp') outputs[key] = `203.0.113.${n % 250}`;
    else if (key === 'PrivateIp') outputs[key] = `10.0.0.${n % 250}`;
    else if (key === 'FileServer') outputs[key] = `fs-${n}.example.com`;
    else if (key === 'SshUser') outputs[key] = 'ec2-user';
    else outputs[key] = `${key}-value`;
  }
  return { outputs, groups };
}
