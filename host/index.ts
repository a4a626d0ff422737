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
export { PublishSink } from './publish/sink.js';
export type { PublishConfig, PublishStats } from './publish/sink.js';
export { subscribeRecords } from './publish/consumer.js';
export type { SubscribeOptions, ConsumerStats, RecordSubscription } from './publish/consumer.js';
export { decodeBatch, recordValue, msgId, FramingError } from './publish/framing.js';
export type { DecodedBatch, DecodedRecord, RecordKind } from './publish/framing.js';
export { marketData, recordsSubject, statsSubject, ALL_RECORDS, FLEET_STATS } from './publish/subjects.js';
export { registerPublishMetrics } from './publish/metrics.js';
