/** Our evaluator of the AWS IoT SQL 2016-03-23 subset and of `${...}` substitution templates (see README.md). */
export { compileRule, compileTemplate, ruleOutputBytes } from './compile.js';
export { MAX_JSON_DEPTH } from './context.js';
export { IotSqlError } from './errors.js';
export { SUPPORTED_FUNCTIONS } from './functions.js';
export { isTopicName, topicFilterProblem } from './topic-filter.js';
export type { CompiledRule, CompiledTemplate, RuleMessage } from './types.js';
