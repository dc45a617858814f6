export { MlportalUrlReader } from './MlportalUrlReader';
export type { MlportalUrlReaderOptions } from './MlportalUrlReader';
export { mlportalUrlReaderFactory } from './factory';
