import { createContext } from '@lit/context';
import type { PlugClient } from '../client/index.js';
import type { Translations } from './i18n.js';

// String keys, not symbols: a second copy of the bundle on the page still finds the provider.
export const clientContext = createContext<PlugClient | undefined>('plugboard.client');
export const translationsContext = createContext<Translations | undefined>('plugboard.translations');
