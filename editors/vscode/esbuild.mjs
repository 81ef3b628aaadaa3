// Bundles the extension (dist/extension.js, vscode external) and, for the unit tests,
// the vscode-free configuration module (dist/config.js).
import * as esbuild from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', sourcemap: false, logLevel: 'warning' };
await esbuild.build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: process.argv.includes('--minify') });
await esbuild.build({ ...common, entryPoints: ['src/config.ts'], outfile: 'dist/config.js' });
