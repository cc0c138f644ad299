// The one line an app adds for typed <plug-*> tags in templates (or `"types": ["plugboard/vue"]`).
import type {} from 'plugboard/vue';
