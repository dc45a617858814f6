import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  componentEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  type Entity,
} from '@backstage/catalog-model';

const policy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

/**
 * Checks an entity as the catalog does before it stores it: the default
 * policies (names, annotations, tags, links) and the kind's schema. Resolves
 * to undefined when it is valid, rejects with the catalog's reason otherwise.
 */
export async function validateEntity(entity: Entity): Promise<void> {
  const checked = await policy.enforce(entity);
  if (!checked) throw new Error('the policies dropped the entity');
  const validator =
    entity.kind === 'Component' ? componentEntityV1alpha1Validator : resourceEntityV1alpha1Validator;
  if (!(await validator.check(checked))) throw new Error(`not a ${entity.kind}`);
}
