/**
 * The elements of an integration's detail: the dialog and what it renders (config form,
 * connect button, execution log). In the script-tag bundle this is a second chunk, loaded
 * when first needed (see `detail-loader.ts`), so the marketplace's first paint waits for less.
 */
import './config-form/define.js';
import './connect-button/define.js';
import './execution-log/define.js';
import './integration-dialog/define.js';
