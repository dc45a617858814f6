import type { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';
import type { HumanDuration } from '@backstage/types';

export interface Config {
  mlportal?: {
    /**
     * Settings of the catalog module @mlportal/plugin-catalog-backend-module-mlportal,
     * which emits mlportal's models, datasets and artifact store as catalog entities.
     * Every key is optional.
     */
    catalog?: {
      /**
       * When the full sync runs (it pages through every model and dataset and
       * replaces the provider's entities). Default: every 30 minutes, timeout 10 minutes.
       */
      schedule?: SchedulerServiceTaskScheduleDefinitionConfig;
      /** Deltas from mlportal's change feed between full syncs. */
      changes?: {
        /** Follow the change feed (default true). */
        enabled?: boolean;
        /** How long mlportal holds an empty long poll, at most 30s (default "25s"). */
        wait?: string | HumanDuration;
        /** The longest pause between retries after errors (default "1m"). */
        maxBackoff?: string | HumanDuration;
      };
      /** The catalog namespace of the entities (default "default"). */
      namespace?: string;
      /**
       * The MLflow UI that shows mlportal's registry and experiments, for entity
       * links; none when unset (mlportal serves MLflow's API, not its UI).
       */
      mlflowUiUrl?: string;
      /** Add `backstage.io/techdocs-ref` to models, pointing at mlportal's generated docs (default true). */
      techdocs?: boolean;
      /** The artifact store models depend on, as a Resource of type artifact-store. */
      artifactStore?: {
        /** Entity name (default "mlportal-artifact-store"). */
        name?: string;
        /** Owner entity ref (default "group:default/platform-admins"). */
        owner?: string;
        /** Description (default "Artifact store of mlportal's models and runs"). */
        description?: string;
      };
    };
  };
}
