// Vue's browser build has the package's API; its file ships no types of its own.
declare module 'vue/dist/vue.runtime.esm-browser.js' {
  export * from 'vue';
}
