/**
 * A test's view into the Azure package: built alongside index.mjs with the same options, so tests can drive the
 * bundled code.
 */
export { httpHandler, timerHandler } from '../../functions/azure/handlers.js';
export { createAcrProvider } from '../../lib/providers/acr/index.js';
export { createProvider } from '../../lib/providers/index.js';
import functions from '@azure/functions';
export const { HttpRequest, InvocationContext } = functions;
