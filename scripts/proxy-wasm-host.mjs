// A minimal proxy-wasm 0.2.1 host in node (V8, the engine Envoy embeds), to measure and
// profile a filter's per-request work in the VM with the real ABI — the SDK's dispatcher,
// header-map deserialisation, proxy_on_memory_allocate callbacks — without Envoy's own cost
// around it:
//
//   node scripts/proxy-wasm-host.mjs FILTER.wasm CONFIG.json CERT.pem [REQUESTS]
//   node --cpu-prof scripts/proxy-wasm-host.mjs ...      # profile (keep names: see bench/README.md)
//
// Every request is `GET /patient-records/42` with the headers Envoy hands a filter for an oha
// request, on a connection whose peer certificate is CERT.pem; the host answers the Envoy
// properties mtls-authz reads. Prints the median ns per request over timed batches and what
// the last request did (headers set, counters). Exits 1 unless that request was forwarded
// with identity headers: scripts/test.sh runs it on the shipped .wasm as a smoke test of the
// ABI glue (the policy and certificate it passes allow the request).
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { WASI } from 'node:wasi';

const [wasmPath, configPath, certPath, requestsArg] = process.argv.slice(2);
if (!certPath) {
  console.error('usage: proxy-wasm-host.mjs FILTER.wasm CONFIG.json CERT.pem [REQUESTS]');
  process.exit(2);
}
const REQUESTS = Number(requestsArg ?? 20000);
const config = readFileSync(configPath);
const pem = readFileSync(certPath);
const der = new X509Certificate(pem).raw;
const properties = new Map([
  ['connection\0mtls', Buffer.from([1])],
  ['connection\0peer_certificate_valid', Buffer.from([1])],
  ['connection\0peer_certificate', pem],
  ['connection\0sha256_peer_certificate_digest', Buffer.from(createHash('sha256').update(der).digest('hex'))],
]);
const REQUEST_HEADERS = [
  [':authority', 'localhost:10000'], [':path', '/patient-records/42'], [':method', 'GET'],
  [':scheme', 'https'], ['user-agent', 'oha/1.4.5'], ['accept', '*/*'],
  ['x-forwarded-proto', 'https'], ['x-request-id', '0f6b2c1e-8a4d-4f7e-9b1a-2d3c4e5f6a7b'],
];
const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, UNIMPLEMENTED = 12;

let exports_;
let headers = [];
// The serialised header map, kept while `headers` is the untouched request (every request
// starts that way): the stand-in host's own cost must stay small next to the filter's.
let serializedHeaders = null;
let localResponse = null;
const metrics = [];
const logs = [];
const mem = () => new DataView(exports_.memory.buffer);
const bytes = (ptr, len) => new Uint8Array(exports_.memory.buffer, ptr, len);
const text = (ptr, len) => Buffer.from(bytes(ptr, len)).toString('utf8');
// Hands `data` to the VM the way a host does: memory from proxy_on_memory_allocate.
function give(data, retPtr, retLen) {
  const ptr = exports_.proxy_on_memory_allocate(data.length);
  bytes(ptr, data.length).set(data);
  mem().setUint32(retPtr, ptr, true);
  mem().setUint32(retLen, data.length, true);
  return OK;
}
function serializeMap(pairs) {
  const parts = pairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
  const size = 4 + parts.length * 8 + parts.reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(parts.length, 0);
  let at = 4;
  for (const [k, v] of parts) { out.writeUInt32LE(k.length, at); out.writeUInt32LE(v.length, at + 4); at += 8; }
  for (const [k, v] of parts) { k.copy(out, at); at += k.length + 1; v.copy(out, at); at += v.length + 1; }
  return out;
}
const env = {
  proxy_log: (level, ptr, len) => { logs.push([level, text(ptr, len)]); return OK; },
  proxy_get_property: (ptr, len, retPtr, retLen) => {
    const value = properties.get(text(ptr, len).replace(/\0$/, ''));
    return value ? give(value, retPtr, retLen) : NOT_FOUND;
  },
  proxy_get_header_map_pairs: (_map, retPtr, retLen) =>
    give(serializedHeaders ?? serializeMap(headers), retPtr, retLen),
  proxy_get_header_map_value: (_map, kPtr, kLen, retPtr, retLen) => {
    const key = text(kPtr, kLen);
    const found = headers.find(([k]) => k === key);
    return found ? give(Buffer.from(found[1]), retPtr, retLen) : NOT_FOUND;
  },
  proxy_replace_header_map_value: (_map, kPtr, kLen, vPtr, vLen) => {
    serializedHeaders = null;
    const key = text(kPtr, kLen);
    headers = headers.filter(([k]) => k !== key);
    headers.push([key, text(vPtr, vLen)]);
    return OK;
  },
  proxy_add_header_map_value: (_map, kPtr, kLen, vPtr, vLen) => { serializedHeaders = null; headers.push([text(kPtr, kLen), text(vPtr, vLen)]); return OK; },
  proxy_remove_header_map_value: (_map, kPtr, kLen) => { serializedHeaders = null; const key = text(kPtr, kLen); headers = headers.filter(([k]) => k !== key); return OK; },
  proxy_get_current_time_nanoseconds: (retPtr) => { mem().setBigUint64(retPtr, process.hrtime.bigint() + 1795392000n * 1000000000n, true); return OK; },
  proxy_define_metric: (_type, ptr, len, retId) => { metrics.push([text(ptr, len), 0n]); mem().setUint32(retId, metrics.length - 1, true); return OK; },
  proxy_increment_metric: (id, by) => { metrics[id][1] += by; return OK; },
  proxy_get_buffer_bytes: (_type, start, max, retPtr, retLen) => give(config.subarray(start, start + max), retPtr, retLen),
  proxy_set_tick_period_milliseconds: () => OK,
  proxy_send_local_response: (status) => { localResponse = status; return OK; },
};
const module = await WebAssembly.compile(readFileSync(wasmPath));
const wasi = new WASI({ version: 'preview1', args: [], env: {} });
const imports = { ...wasi.getImportObject(), env: {} };
for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
  if (kind !== 'function' || from !== 'env') continue;
  imports.env[name] = env[name] ?? (() => UNIMPLEMENTED);
}
const instance = await WebAssembly.instantiate(module, imports);
exports_ = instance.exports;
wasi.initialize(instance);

const ROOT = 1;
exports_.proxy_on_context_create(ROOT, 0);
exports_.proxy_on_vm_start?.(ROOT, 0);
if (!exports_.proxy_on_configure(ROOT, config.length)) {
  console.error('configuration refused:', logs.map(([, l]) => l).join('\n'));
  process.exit(1);
}
let nextContext = 2;
const REQUEST_HEADERS_SERIALIZED = serializeMap(REQUEST_HEADERS);
function request() {
  const id = nextContext++;
  headers = REQUEST_HEADERS.map(([k, v]) => [k, v]);
  serializedHeaders = REQUEST_HEADERS_SERIALIZED;
  localResponse = null;
  exports_.proxy_on_context_create(id, ROOT);
  const action = exports_.proxy_on_request_headers(id, headers.length, 1);
  exports_.proxy_on_log(id);
  exports_.proxy_on_done(id);
  exports_.proxy_on_delete(id);
  return action;
}

const BATCHES = 15;
const perBatch = Math.max(1, Math.floor(REQUESTS / BATCHES));
for (let i = 0; i < perBatch; i++) request(); // warm-up: V8 tiers up
const samples = [];
for (let b = 0; b < BATCHES; b++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < perBatch; i++) request();
  samples.push(Number(process.hrtime.bigint() - start) / perBatch);
}
samples.sort((a, b) => a - b);
exports_.proxy_on_tick?.(ROOT);
const action = request();
const identityHeaders = headers.filter(([k]) => k.startsWith('x-client'));
console.log(`ns/request ${samples[BATCHES >> 1].toFixed(0)}`);
console.log(`last request: action ${action} local response ${localResponse ?? '-'}`);
console.log(`headers after: ${identityHeaders.map(([k, v]) => `${k}: ${v}`).join(' | ')}`);
console.log(`counters: ${metrics.filter(([, v]) => v > 0n).map(([n, v]) => `${n}=${v}`).join(' ')}`);
const CONTINUE = 0;
if (action !== CONTINUE || localResponse !== null || identityHeaders.length === 0) {
  console.error('the request was not forwarded with identity headers; filter log (first and last lines):');
  for (const [level, line] of [...logs.slice(0, 2), ...logs.slice(-2)]) console.error(`  [${level}] ${line}`);
  process.exit(1);
}
