import { connectionEn } from './connect-button/connection-strings.js';
import { formEn } from './config-form/form-strings.js';
import { executionsEn } from './execution-log/execution-strings.js';
import { dialogEn } from './integration-dialog/dialog-strings.js';

/**
 * Every English string of the detail elements (dialog, wizard, config form, connect button,
 * execution log), for the `StringKey` type and the tests. At run time each element imports only
 * its own part (`*-strings.ts` in its folder), which adds itself to the English fallback when the
 * detail chunk loads; the marketplace's, card's, status badge's and generic errors' strings are
 * `en` in `i18n.ts`. A host overrides any of them the same way, through `translations`.
 */
export const detailEn = { ...dialogEn, ...connectionEn, ...formEn, ...executionsEn };
