export { agentBundlePath, commands } from './commands.js';
export { validate, validateCommand, type ValidateArgs, type ValidateSummary } from './commands/validate.js';
export { list, listCommand, type ListArgs } from './commands/list.js';
export { renderCliDocs, renderErrorDocs } from './docs.js';
