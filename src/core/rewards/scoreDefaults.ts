/**
 * The one default for recomputing rewards, shared by the extension's settings (package.json's
 * defaults say the same), the viewer, the Run Overview and every CLI command, so the viewer and
 * `grpo-studio query` agree by construction: the grounding variant, the seed's box matching, and
 * the smart_resize bounds the seed runs trained with (3136 / 3686400; the Qwen2.5-VL processor's
 * own maximum, 12845056, is `PROCESSOR_MAX_PIXELS`, for runs that kept it: set it explicitly).
 */
export const DEFAULT_SCORE_OPTIONS = {
  variant: 'grounding',
  matching: 'seed',
  minPixels: 3136,
  maxPixels: 3686400,
} as const;
