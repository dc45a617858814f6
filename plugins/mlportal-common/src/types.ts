import type { components, operations } from './generated/schema';

/** Named aliases of the generated OpenAPI schemas, for readable signatures. */
type Schemas = components['schemas'];

export type Identity = Schemas['Identity'];
export type Grant = Schemas['Grant'];
export type Verb = Schemas['Verb'];
export type Role = Schemas['Role'];
export type Team = Schemas['Team'];
export type TeamCreate = Schemas['TeamCreate'];
export type TeamUpdate = Schemas['TeamUpdate'];
export type TeamList = Schemas['TeamList'];
export type Member = Schemas['Member'];
export type GPUQuota = Schemas['GPUQuota'];
export type Token = Schemas['Token'];
export type TokenCreate = Schemas['TokenCreate'];
export type IssuedToken = Schemas['IssuedToken'];
export type TokenList = Schemas['TokenList'];
export type AuditEvent = Schemas['AuditEvent'];
export type AuditEventList = Schemas['AuditEventList'];
export type AuditOutcome = Schemas['AuditOutcome'];
export type Version = Schemas['Version'];
export type Health = Schemas['Health'];
export type ErrorResponse = Schemas['ErrorResponse'];
export type ErrorCode = Schemas['ErrorBody']['code'];
export type FieldError = Schemas['FieldError'];
export type Project = Schemas['Project'];
export type ProjectCreate = Schemas['ProjectCreate'];
export type ProjectOverrides = Schemas['ProjectOverrides'];
export type ProjectStep = Schemas['ProjectStep'];
export type ProjectList = Schemas['ProjectList'];
export type Model = Schemas['Model'];
export type ModelList = Schemas['ModelList'];
export type ModelVersion = Schemas['ModelVersion'];
export type ModelVersionList = Schemas['ModelVersionList'];
export type ModelSignature = Schemas['ModelSignature'];
export type ColumnSpec = Schemas['ColumnSpec'];
export type Approval = Schemas['Approval'];
export type Deployment = Schemas['Deployment'];
export type Lineage = Schemas['Lineage'];
export type LineageNode = Schemas['Lineage']['nodes'][number];
export type LineageEdge = Schemas['Lineage']['edges'][number];
export type DocsTree = Schemas['DocsTree'];
export type DocsFile = Schemas['DocsTree']['files'][number];
export type DatasetRef = Schemas['DatasetRef'];
export type Dataset = Schemas['Dataset'];
export type DatasetList = Schemas['DatasetList'];
export type DatasetVersion = Schemas['DatasetVersion'];
export type QualityReport = Schemas['QualityReport'];
export type Change = Schemas['Change'];
export type ChangeList = Schemas['ChangeList'];

type QueryOf<K extends keyof operations> = operations[K]['parameters'] extends {
  query?: infer Q;
}
  ? NonNullable<Q>
  : never;

export type ListTeamsQuery = QueryOf<'listTeams'>;
export type ListTokensQuery = QueryOf<'listTokens'>;
export type ListAuditEventsQuery = QueryOf<'listAuditEvents'>;
export type ListProjectsQuery = QueryOf<'listProjects'>;
export type ListModelsQuery = QueryOf<'listModels'>;
export type ListModelVersionsQuery = QueryOf<'listModelVersions'>;
export type ListDatasetsQuery = QueryOf<'listDatasets'>;
export type ListChangesQuery = QueryOf<'listChanges'>;
