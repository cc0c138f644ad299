/** The vendor console's chunk (`vendor-console-loader.ts` imports it on demand): never in the customers' bundle. */
import './vendor-console/define.js';
