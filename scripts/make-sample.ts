/**
 * `npm run sample`: writes the bundled sample (images + rollout file) into the folder given as
 * the first argument. The output is generated, never committed (dist/ is ignored).
 */
import { resolve } from 'node:path';
import { generateSample } from './sample/generate';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: make-sample <output folder>\n');
  process.exit(2);
}
const summary = generateSample(resolve(out));
process.stdout.write(`wrote ${summary.records.length} rollouts and ${summary.files.length} files to ${resolve(out)}\n`);
