export * from './format.js';
export * from './svg.js';
export * from './view.js';
export * from './markdown.js';
export * from './html.js';
export * from './output.js';
