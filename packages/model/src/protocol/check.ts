import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';

import {
  DoneMessageSchema,
  ErrorMessageSchema,
  HelloMessageSchema,
  LogMessageSchema,
  ReadyMessageSchema,
  TickMessageSchema,
  type AgentMessage,
} from './agent.js';

const SCHEMAS: Record<AgentMessage['type'], TSchema> = {
  hello: HelloMessageSchema,
  ready: ReadyMessageSchema,
  tick: TickMessageSchema,
  done: DoneMessageSchema,
  error: ErrorMessageSchema,
  log: LogMessageSchema,
};

let validators: Map<string, ValidateFunction> | undefined;

/** One validator per message type, compiled on first use. */
function validatorFor(type: string): ValidateFunction | undefined {
  if (!validators) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    validators = new Map(Object.entries(SCHEMAS).map(([t, schema]) => [t, ajv.compile(schema)]));
  }
  return validators.get(type);
}

/**
 * Checks a parsed line from an agent against the protocol schema of its `type`. Returns the message, or
 * the first problem as `<json path>: <what>` (for an unknown or missing type: which types exist).
 */
export function checkAgentMessage(value: unknown): { message: AgentMessage } | { problem: string } {
  const type = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { type?: unknown }).type : undefined;
  const validate = typeof type === 'string' ? validatorFor(type) : undefined;
  if (!validate) return { problem: `/type: must be one of ${Object.keys(SCHEMAS).join(', ')}; got ${JSON.stringify(type) ?? 'nothing'}` };
  if (validate(value)) return { message: value as AgentMessage };
  const e = validate.errors?.[0];
  return { problem: `${e?.instancePath || '/'}: ${e?.message ?? 'is invalid'} (a "${type}" message)` };
}
