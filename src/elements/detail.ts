/**
 * The elements of an integration's detail: the dialog and what it renders (config form,
 * connect button, execution log). In the script-tag bundle this is a second chunk, loaded
 * when first needed (see `detail-loader.ts`), so the marketplace's first paint waits for less.
 */
// Every style sheet of the chunk first, side by side: the chunk (~100 KB minified) is wider than
// gzip's 32 KB window, and sheets spread between the elements' code each paid for the same CSS
// words again (−591 B gzip in all; docs/benchmarks.md, "Seventh session, bundle").
import './config-form/config-form.styles.js';
import './connect-button/connect-button.styles.js';
import './execution-log/execution-log.styles.js';
import './integration-dialog/integration-dialog.styles.js';
import './integration-dialog/integration-setup.styles.js';
import './integration-dialog/instance-activity.styles.js';
import './integration-dialog/instance-history.styles.js';
import './integration-dialog/setup-toast.styles.js';
// Then the code, in this order (the smallest sum of the orders measured).
import './config-form/define.js';
import './execution-log/define.js';
import './connect-button/define.js';
import './integration-dialog/define.js';
