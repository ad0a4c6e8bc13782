// Runs a wasm32-wasip1 command module under node's WASI (V8, the engine Envoy embeds):
//   node scripts/run-wasi.mjs program.wasm
// Used by scripts/wasm-hot-path.sh. Imports outside WASI (the proxy-wasm host ABI, linked in
// with the filter but never called by the measurement) are stubs that throw if called.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const wasi = new WASI({ version: 'preview1', args: [], env: {} });
const module = await WebAssembly.compile(await readFile(process.argv[2]));
const imports = wasi.getImportObject();
for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
  if (kind !== 'function' || imports[from]?.[name]) continue;
  imports[from] ??= {};
  imports[from][name] = () => {
    throw new Error(`host call ${from}.${name} is not available under WASI`);
  };
}
const instance = await WebAssembly.instantiate(module, imports);
// proxy_wasm::main! also exports `_initialize` (the reactor entry point), which WASI.start
// refuses next to `_start`: hand it only what a command needs.
wasi.start({ exports: { memory: instance.exports.memory, _start: instance.exports._start } });
