// Filter expressions compiled by libpcap to classic BPF, translated to WASM over the shared memory.
export { BPF, bpfImage, bpfInvalid, bpfListing, decodeBpf, encodeBpf, type BpfInsn } from './bpf.js';
export { DEFAULT_SNAPLEN, compileExpression, dltToLinktype, libpcapVersion, linktypeName, linktypeToDlt, parseLinktype, type CompileOptions } from './compile.js';
export { Filter, type FilterInstance } from './filter.js';
export { FILTER_MEMORY, FilterError, translateBpf, type Translation } from './translate.js';
export { attachSocketFilter, detachSocketFilter } from './socket.js';
export { RecordFilter } from './records.js';
