/**
 * The mlportal scaffolder module: the `mlportal:project:create` action, which
 * bootstraps an ML project through the mlportal Go API as the task's user,
 * checkpointed and idempotent, with the saga's progress in the task log.
 * It does not render files or register catalog entities itself: mlportal renders
 * the skeleton, and the template's `catalog:register` step registers the entity.
 *
 * @packageDocumentation
 */

export { scaffolderModuleMlportal as default } from './module';
export {
  createMlportalProjectCreateAction,
  PROJECT_CREATE_ACTION_ID,
} from './actions/projectCreate';
export type {
  ActionAuth,
  MlportalClients,
  ProjectCreateActionOptions,
} from './actions/projectCreate';
export { DNS_LABEL, GITHUB_NOT_AVAILABLE } from './actions/input';
export type { ProjectCreateInput } from './actions/input';
