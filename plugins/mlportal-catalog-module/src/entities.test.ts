import { validateEntity } from './__testUtils__/validate';
import { churn, dataset, model, transactions } from './__testUtils__/recorded';
import {
  artifactStoreEntity,
  datasetEntity,
  entityName,
  LIFECYCLE_BY_STAGE,
  modelEntity,
  type MappingContext,
} from './entities';

const ctx: MappingContext = {
  namespace: 'default',
  publicBaseUrl: 'https://ml.example.com',
  mlflowUiUrl: 'https://mlflow.example.com',
  techdocs: true,
  artifactStore: { name: 'mlportal-artifact-store', owner: 'group:default/platform-admins', description: 'artifacts' },
  groupOf: team => (team === 'fraud' ? 'group:default/fraud-team' : undefined),
};

describe('modelEntity', () => {
  it('maps a model to a Component of type ml-model', async () => {
    const entity = modelEntity(churn, ctx);
    expect(entity).toEqual({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'churn',
        namespace: 'default',
        description: 'Predicts which customers leave.',
        annotations: {
          'backstage.io/managed-by-location': 'url:https://ml.example.com/api/v1/models/churn',
          'backstage.io/managed-by-origin-location': 'url:https://ml.example.com/api/v1/models/churn',
          'backstage.io/techdocs-ref': 'url:https://ml.example.com/api/v1/models/churn/docs',
          'mlportal.io/model-id': 'churn',
          'mlportal.io/team': 'fraud',
          'mlportal.io/project': 'churn-project',
          'mlportal.io/framework': 'sklearn',
          'mlportal.io/mlflow-experiment': '7',
          'mlportal.io/stage': 'Production',
          'mlportal.io/latest-version': '3',
          'mlportal.io/aliases': 'challenger=3,champion=2',
        },
        tags: ['ml-model', 'sklearn'],
        links: [
          { url: 'https://ml.example.com/api/v1/models/churn', title: 'mlportal model', icon: 'dashboard' },
          { url: 'https://mlflow.example.com/#/models/churn', title: 'MLflow model registry' },
          { url: 'https://mlflow.example.com/#/experiments/7', title: 'MLflow experiment' },
          { url: 'https://churn.example.com/invocations', title: 'production endpoint (v2)' },
        ],
      },
      spec: {
        type: 'ml-model',
        lifecycle: 'production',
        owner: 'group:default/fraud-team',
        system: 'churn-project',
        dependsOn: [
          'resource:default/customers',
          'resource:default/transactions',
          'resource:default/mlportal-artifact-store',
        ],
      },
    });
    await expect(validateEntity(entity)).resolves.toBeUndefined();
  });

  it.each(Object.entries({ ...LIFECYCLE_BY_STAGE, '': 'experimental', Weird: 'experimental' }))(
    'stage %p → lifecycle %p',
    (stage, lifecycle) => {
      expect(modelEntity(model('m', { stage: stage || undefined }), ctx).spec?.lifecycle).toBe(lifecycle);
    },
  );

  it('owns a model of a team without a Backstage group by group:default/<team>, and omits what is unknown', async () => {
    const entity = modelEntity(model('bare', { team: 'vision' }), { ...ctx, techdocs: false, mlflowUiUrl: undefined });
    expect(entity.spec).toEqual({
      type: 'ml-model',
      lifecycle: 'experimental',
      owner: 'group:default/vision',
      dependsOn: ['resource:default/mlportal-artifact-store'],
    });
    expect(Object.keys(entity.metadata.annotations!).sort()).toEqual([
      'backstage.io/managed-by-location',
      'backstage.io/managed-by-origin-location',
      'mlportal.io/model-id',
      'mlportal.io/team',
    ]);
    expect(entity.metadata.links).toHaveLength(1);
    await expect(validateEntity(entity)).resolves.toBeUndefined();
  });

  it('gives a model whose MLflow name is no entity name a valid one, with the name as title', async () => {
    const entity = modelEntity(model('Fraud Detector / EU (v2)'), ctx);
    expect(entity.metadata.name).toMatch(/^Fraud-Detector-EU-v2-[0-9a-f]{8}$/);
    expect(entity.metadata.title).toBe('Fraud Detector / EU (v2)');
    expect(entity.metadata.annotations!['mlportal.io/model-id']).toBe('Fraud Detector / EU (v2)');
    expect(entity.metadata.annotations!['backstage.io/techdocs-ref']).toBe(
      'url:https://ml.example.com/api/v1/models/Fraud%20Detector%20%2F%20EU%20(v2)/docs',
    );
    await expect(validateEntity(entity)).resolves.toBeUndefined();
  });
});

describe('entityName', () => {
  it.each([
    ['churn', 'churn'],
    ['churn_v2.1', 'churn_v2.1'],
    ['a'.repeat(63), 'a'.repeat(63)],
  ])('keeps the valid name %p', (name, want) => expect(entityName(name)).toBe(want));

  it.each(['a'.repeat(64), 'churn--v2', '-x', 'über model', '///', 'a b', 'a  b'])(
    'makes %p valid, distinct and stable',
    name => {
      const got = entityName(name);
      expect(got).toMatch(/^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/);
      expect(got.length).toBeLessThanOrEqual(63);
      expect(entityName(name)).toBe(got);
    },
  );

  it('never maps two names to one', () => {
    expect(entityName('a b')).not.toBe(entityName('a  b'));
    expect(entityName('a b')).not.toBe(entityName('a-b'));
  });
});

describe('datasetEntity and artifactStoreEntity', () => {
  it('maps a dataset to a Resource of type dataset, described by its newest version', async () => {
    const entity = datasetEntity(transactions, ctx);
    expect(entity).toMatchObject({
      kind: 'Resource',
      metadata: {
        name: 'transactions',
        annotations: {
          'backstage.io/managed-by-location': 'url:https://ml.example.com/api/v1/datasets/transactions',
          'mlportal.io/dataset-id': 'transactions',
          'mlportal.io/dataset-version': '2',
          'mlportal.io/content-hash': 'sha256:bb',
          'mlportal.io/quality': 'passed',
          'mlportal.io/project': 'churn-project',
        },
        tags: ['dataset', 'quality-passed'],
      },
      spec: { type: 'dataset', owner: 'group:default/fraud-team', system: 'churn-project' },
    });
    await expect(validateEntity(entity)).resolves.toBeUndefined();
    const empty = datasetEntity(dataset('empty', { team: 'vision' }), ctx);
    expect(empty.spec).toEqual({ type: 'dataset', owner: 'group:default/vision' });
    await expect(validateEntity(empty)).resolves.toBeUndefined();
  });

  it('describes the artifact store as a Resource of type artifact-store', async () => {
    const entity = artifactStoreEntity(ctx);
    expect(entity).toMatchObject({
      kind: 'Resource',
      metadata: { name: 'mlportal-artifact-store', namespace: 'default' },
      spec: { type: 'artifact-store', owner: 'group:default/platform-admins' },
    });
    await expect(validateEntity(entity)).resolves.toBeUndefined();
  });
});
