/**
 * Moved to src/core/ingest/v1Reader.ts (core/rollouts no longer imports core/ingest). This
 * re-export stays only until src/core/view/rolloutSet.ts and src/core/ingest/source.ts import the
 * reader from its new place; then this file is deleted (test/unit/imports.test.ts reports it).
 */
export { CHUNK_BYTES, firstInvalidUtf8, readRollouts, type ReadSummary, type RecordLocation } from '../ingest/v1Reader';
