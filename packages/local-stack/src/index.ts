export { restore as restoreStack, STACK_FAULTS, type StackFault, stackPid, startFault } from './faults.ts';
export { type ServiceName, SERVICE_NAMES } from './service.ts';
export { resolveStackLayout, type StackLayout, stackSettings } from './settings.ts';
export {
  type ServiceDownResult,
  type ServiceStatus,
  type ServiceUpResult,
  type StackStatus,
  type StackUpResult,
  stackDown,
  stackStatus,
  stackUp,
} from './stack.ts';
export { ensureTopics, retentionFor, type TopicOutcome, type TopicSpec, topicSpecs } from './topics.ts';
