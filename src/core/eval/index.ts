/**
 * The evaluation core's public surface, for the CLI and the extension: read predictions, score
 * them, pair two checkpoints, build the matrix and write the reports (docs/eval.md).
 */
export { biasProbe, type BiasProbe } from './bias';
export { comparePaired, type Comparison } from './compare';
export { inferMetric, loadManifest, MANIFEST_NAME } from './folder';
export { ManifestError, parseManifest, type BenchmarkSpec, type CheckpointSpec, type Manifest, type PredictionEntry } from './manifest';
export { buildMatrix, defaultLoader, type Cell, type Loaded, type Matrix } from './matrix';
export {
  answerText,
  evaluate,
  exactMatch,
  goldLetters,
  METRIC_NAMES,
  parseMetric,
  popeSaysYes,
  predictedLetters,
  scoreItems,
  type MetricName,
  type MetricResult,
  type Row,
} from './metrics';
export { PredictionsError, readLoggedResults, readPredictions, type PredictionFormat } from './readers';
export { renderHtml, scalingSvg } from './reportHtml';
export { renderMarkdown } from './reportMd';
export { mcnemarExact, pairedBootstrap, passAtK, wilson, type Interval } from './stats';
export { reportTables, scalingSeries, type Table } from './tables';
export type { BadLine, PredictionItem, PredictionSet } from './types';
export { vqaAccuracy } from './vqa';
