export * from './types';
export * from './render';
export * from './parse';
export * from './check';
export * from './files';
export * from './validate';
