export * from './problem.js';
export * from './problem-types.js';
export * from './claims.js';
export * from './fields.js';
export * from './api.js';
export type * from './events.js';
export * from './words.js';
