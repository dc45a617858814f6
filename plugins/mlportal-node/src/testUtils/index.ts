/**
 * Test utilities of the mlportal Backstage plugins: a real `mlportal serve`
 * started for a test, with a fresh data directory, Ed25519 key pair and admin
 * token. Test code only.
 *
 * @packageDocumentation
 */

export { freePort, mlportalBinary, startMlportalServer } from './mlportalServer';
export type { MlportalServer } from './mlportalServer';
