/**
 * The mlportal TechDocs module: the docs mlportal generates for every model
 * (`backstage.io/techdocs-ref: url:<mlportal>/api/v1/models/<model>/docs`, set
 * by the mlportal catalog module) are built by Backstage's TechDocs even when
 * `techdocs.builder` is `external`. It does not fetch the docs itself: TechDocs'
 * stock `url` preparer reads them through the mlportal URL reader of
 * @mlportal/plugin-mlportal-backend, with ETags, so unchanged docs are not
 * rebuilt. (A preparer of its own for an `mlportal:` reference would not work:
 * TechDocs' generate step accepts only `url` and `dir` references.)
 *
 * @packageDocumentation
 */

export { techdocsModuleMlportal as default } from './module';
export { MlportalDocsBuildStrategy, isMlportalModelDocs, mlportalBaseUrls } from './buildStrategy';
