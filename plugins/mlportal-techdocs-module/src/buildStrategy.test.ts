import { ConfigReader } from '@backstage/config';
import type { Entity } from '@backstage/catalog-model';
import { isMlportalModelDocs, MlportalDocsBuildStrategy, mlportalBaseUrls } from './buildStrategy';

const component = (ref?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'x', annotations: ref ? { 'backstage.io/techdocs-ref': ref } : {} },
});

const bases = ['https://ml.example.com/portal', 'http://mlportal:8080'];

describe('isMlportalModelDocs', () => {
  it.each([
    ['url:https://ml.example.com/portal/api/v1/models/churn/docs', true],
    ['url:http://mlportal:8080/api/v1/models/Fraud%20Score/docs', true],
    ['url:http://mlportal:8080/api/v1/models/churn/docs/', true],
    ['url:https://ml.example.com/api/v1/models/churn/docs', false],
    ['url:http://mlportal:8080/api/v1/models/churn/lineage', false],
    ['url:http://mlportal:8080/api/v1/models/a/b/docs', false],
    ['url:http://mlportal:8081/api/v1/models/churn/docs', false],
    ['url:http://mlportal:8080/git/fraud/churn.git/raw/main/docs', false],
    ['dir:.', false],
    ['url:not a url', false],
    [undefined, false],
  ])('%p → %p', (ref, want) => {
    expect(isMlportalModelDocs(component(ref), bases)).toBe(want);
  });
});

describe('MlportalDocsBuildStrategy', () => {
  const mlportal = component('url:http://mlportal:8080/api/v1/models/churn/docs');
  const other = component('dir:.');

  it.each([
    [{ techdocs: { builder: 'external' } }, true, false],
    [{ techdocs: { builder: 'local' } }, true, true],
    [{}, true, true],
  ])('with %p builds model docs (%p) and others as techdocs.builder says (%p)', async (techdocs, model, rest) => {
    const strategy = new MlportalDocsBuildStrategy(
      new ConfigReader({ ...techdocs, mlportal: { backstage: { baseUrl: 'http://mlportal:8080' } } }),
    );
    await expect(strategy.shouldBuild({ entity: mlportal })).resolves.toBe(model);
    await expect(strategy.shouldBuild({ entity: other })).resolves.toBe(rest);
  });

  it('knows mlportal by mlportal.server.baseUrl and mlportal.backstage.baseUrl', () => {
    expect(
      mlportalBaseUrls(
        new ConfigReader({
          mlportal: { server: { baseUrl: 'https://ml.example.com' }, backstage: { baseUrl: 'http://mlportal:8080' } },
        }),
      ),
    ).toEqual(['https://ml.example.com', 'http://mlportal:8080']);
    expect(mlportalBaseUrls(new ConfigReader({}))).toEqual(['http://localhost:8080']);
  });
});
