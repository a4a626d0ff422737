// The package's public API: what a Node service embeds. The CLI (host/cli/) is built on the same.
export { Engine, EngineConfigError, FlowRuleError, parseFlowRule, Burst } from './engine/engine.js';
export type { EngineConfig, EngineStats, FlowRule, FlowRuleInput, RecordBatch } from './engine/engine.js';
export { Packet } from './packet.js';
export { openBackend, backendNames, registerBackend, kernelBytesFor } from './backends/index.js';
export type { Backend, BackendConfig } from './backends/index.js';
export { loadPlugin, validatePlugin, PluginRefused } from './plugins/index.js';
export { readCapture, readCaptureFile, writePcap, writePcapng } from './pcap/index.js';
export { computeLayout, createMemory, writeControlBlock, LayoutError } from './layout.js';
export type { Layout, LayoutConfig } from './layout.js';
export { createTestbed } from './testbed.js';
export { Filter, FilterError, compileExpression, attachSocketFilter, detachSocketFilter } from './filter/index.js';
export type { FilterInstance, BpfInsn, CompileOptions } from './filter/index.js';
// The market-data application (docs/feed.md): a feed client with typed messages and an order book.
export { openFeed, Feed, FeedError, FEED_BACKENDS } from './feed/client.js';
export type { FeedClientOptions, FeedReport, FeedBackendName, FeedPluginName } from './feed/client.js';
export { MessageView } from './feed/messages.js';
export type * from './feed/messages.js';
export { OrderBook, price4 } from './feed/book.js';
export type { BookConfig, BookCounters, BookRecord, BboChange, Trade, Quote, Level, BookOrder } from './feed/book.js';
