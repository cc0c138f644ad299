import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

// The script-tag bundle: one ES module that defines every element. The `production`
// condition keeps Lit's dev mode out.
export default {
  input: { plugboard: 'src/elements/index.ts' },
  output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js', sourcemap: true },
  plugins: [
    nodeResolve({ browser: true, exportConditions: ['production', 'browser'] }),
    esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' }),
    terser({ ecma: 2022, module: true, compress: { passes: 2 }, format: { comments: false } }),
  ],
};
