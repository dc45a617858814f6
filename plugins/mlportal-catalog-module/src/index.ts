/**
 * The mlportal catalog module: an entity provider that puts mlportal's
 * registered models (`Component`, type `ml-model`), datasets (`Resource`, type
 * `dataset`) and artifact store (`Resource`, type `artifact-store`) into the
 * Backstage catalog, with owners, systems, lifecycles, `dependsOn` relations,
 * links and a TechDocs reference to each model's generated docs. A full sync
 * runs on a schedule; deltas follow mlportal's change feed within seconds.
 * It does not build TechDocs (the mlportal URL reader of
 * @mlportal/plugin-mlportal-backend serves the docs tree to TechDocs) and it
 * writes nothing to mlportal.
 *
 * @packageDocumentation
 */

export { catalogModuleMlportal as default } from './module';
export { MlportalEntityProvider } from './provider';
export type {
  FullSyncResult,
  MlportalCatalogSource,
  MlportalEntityProviderOptions,
} from './provider';
export { ChangeFollower } from './follower';
export type { ChangeFeed, ChangeFollowerOptions } from './follower';
export {
  ANNOTATIONS,
  LIFECYCLE_BY_STAGE,
  artifactStoreEntity,
  datasetEntity,
  entityName,
  modelEntity,
} from './entities';
export type { MappingContext } from './entities';
export { readMlportalCatalogSettings, DEFAULT_SCHEDULE } from './settings';
export type { MlportalCatalogSettings } from './settings';
