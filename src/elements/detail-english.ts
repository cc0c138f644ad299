// Imported by each detail element: its English strings come with it (in the detail chunk), not with the core.
import { detailEn } from './detail-strings.js';
import { addEnglish } from './i18n.js';

addEnglish(detailEn);
